//! Rules between the options of the issue-15 security-group functions (`revoke_security_group`,
//! `revoke_security_group_egress`, `modify_security_group_rule`): a rule is named by its id or
//! by its fields, and the message says which to give. The rows themselves are in
//! [`super::functions::TABLE`]; the public-port policy is the guard's, not this file's.

use super::errors::HostError;
use super::options::Checked;

/// A revoke names rules by `security_group_rule_ids`, or by `ip_protocol` + `port_range`.
pub fn rule_ids_or_fields(c: &Checked) -> Result<(), HostError> {
    let ids = !c.str_list("security_group_rule_ids").is_empty();
    let fields = c.get("port_range").is_some() || c.get("ip_protocol").is_some();
    match (ids, fields) {
        (true, _) => Ok(()),
        (false, true) if c.get("port_range").is_some() && c.get("ip_protocol").is_some() => Ok(()),
        (false, true) => Err(HostError::InvalidOption(format!(
            "{}: a rule named by its fields needs both ip_protocol and port_range (e.g. \
             ip_protocol: \"tcp\", port_range: \"80/80\")",
            c.func
        ))),
        (false, false) => Err(HostError::InvalidOption(format!(
            "{}: say which rules to remove: security_group_rule_ids (from \
             DescribeSecurityGroupAttribute) or ip_protocol + port_range",
            c.func
        ))),
    }
}

/// A modification names its rule by `security_group_rule_id`, or (older form) by
/// `ip_protocol` + `port_range` + `source_cidr_ip`, which then only change description/priority.
pub fn rule_id_or_identity(c: &Checked) -> Result<(), HostError> {
    if c.get("security_group_rule_id").is_some() {
        return Ok(());
    }
    let missing: Vec<&str> = ["ip_protocol", "port_range", "source_cidr_ip"]
        .into_iter()
        .filter(|k| c.get(k).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(HostError::InvalidOption(format!(
        "modify_security_group_rule: give security_group_rule_id (from \
         DescribeSecurityGroupAttribute), or name the rule by ip_protocol, port_range and \
         source_cidr_ip (missing: {})",
        missing.join(", ")
    )))
}
