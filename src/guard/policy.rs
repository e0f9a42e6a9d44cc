//! Host policies: requests ecsh refuses to send whatever the script says, each refusal with what
//! to do instead.
//!
//! - `UserData` on any action: boot-time scripts run unobserved; use Cloud Assistant instead.
//! - Ingress (`AuthorizeSecurityGroup`, `ModifySecurityGroupRule`; rules in the `Permissions.N.*`
//!   form or the old flat form) that opens a database port to the whole internet.
//! - The same for SSH (22) / RDP (3389), unless the rule carries `allow_public_admin: true` (an
//!   ecsh-only option, see [`super::params`]).
//!
//! "The whole internet" is any IPv4 source of prefix length /0–/7 (`0.0.0.0/0`, `0.0.0.0/1`, …)
//! or IPv6 /0–/15 (`::/0`, `2000::/3`): ranges that large necessarily include public addresses.
//! `10.0.0.0/8` and narrower are not. Port ranges are inclusive; `-1/-1` and protocol `ALL` mean
//! every port, so they overlap every sensitive port. ICMP and GRE carry no ports.
//! When a rule open to the internet cannot be read (bad port range, unparsable source), it is
//! refused: a rule we cannot judge is not sent.
//!
//! This module is pure: it reads a request and answers; it sends and prints nothing.
//! (`image_id` in `create_instance_with_infra` is refused by the host helper itself, which is
//! the only place that knows the option came from that helper.)

use super::params::{self, Flat};
use serde_json::{Map, Value};
use std::fmt;
use std::net::IpAddr;

/// Which rule a request broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PolicyRule {
    UserData,
    PublicDatabasePort,
    PublicAdminPort,
    /// An ingress rule open to the internet that cannot be read (so cannot be judged).
    UnreadableRule,
    /// An ecsh-only option with a value it does not accept.
    BadOption,
    /// Parameters that cannot be sent at all (see `rpc::params::ParamError`).
    InvalidParams,
    /// A data disk of RunInstances/CreateInstance that would outlive its instance
    /// (`DataDisk.N.DeleteWithInstance=false`): the answer names no disk ids, so the ledger
    /// could not release it (issue 15).
    LastingDataDisk,
}

impl PolicyRule {
    /// The script-visible code of a refusal by this rule (`e.code`).
    pub fn code(self) -> &'static str {
        match self {
            PolicyRule::UserData => "Refused.Policy.UserData",
            PolicyRule::PublicDatabasePort => "Refused.Policy.PublicDatabasePort",
            PolicyRule::PublicAdminPort => "Refused.Policy.PublicAdminPort",
            PolicyRule::UnreadableRule => "Refused.Policy.UnreadableRule",
            PolicyRule::BadOption => "InvalidOption",
            PolicyRule::InvalidParams => "Refused.MalformedRequest",
            PolicyRule::LastingDataDisk => "Refused.Policy.LastingDataDisk",
        }
    }
}

/// A refusal by policy: which rule, and a message that says what to do instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyViolation {
    pub rule: PolicyRule,
    pub message: String,
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyViolation {}

/// A port range that must not be open to the internet, with what listens there.
struct Sensitive {
    from: u16,
    to: u16,
    what: &'static str,
}

const fn s(from: u16, to: u16, what: &'static str) -> Sensitive {
    Sensitive { from, to, what }
}

/// Database and data-store ports: never opened to the internet.
const DATABASE_PORTS: &[Sensitive] = &[
    s(3306, 3306, "MySQL/MariaDB"),
    s(5432, 5432, "PostgreSQL"),
    s(6379, 6379, "Redis"),
    s(27017, 27019, "MongoDB"),
    s(1433, 1433, "SQL Server"),
    s(1521, 1521, "Oracle"),
    s(9200, 9200, "Elasticsearch HTTP"),
    s(9300, 9300, "Elasticsearch transport"),
    s(11211, 11211, "Memcached"),
    s(5984, 5984, "CouchDB"),
    s(7000, 7001, "Cassandra inter-node"),
    s(9042, 9042, "Cassandra CQL"),
    s(2379, 2380, "etcd"),
    s(2181, 2181, "ZooKeeper"),
    s(8086, 8086, "InfluxDB"),
    s(7474, 7474, "Neo4j HTTP"),
    s(7687, 7687, "Neo4j Bolt"),
    s(26257, 26257, "CockroachDB"),
];

/// Remote administration ports: opened to the internet only with `allow_public_admin: true`.
const ADMIN_PORTS: &[Sensitive] = &[s(22, 22, "SSH"), s(3389, 3389, "RDP")];

/// True when `action`'s parameters describe inbound rules, by the guard's comparison of names.
fn is_ingress(action: &str) -> bool {
    let canon = canonical(action);
    crate::ops::ACTIONS
        .iter()
        .filter(|a| a.ingress)
        .any(|a| canonical_eq(a.name, &canon))
}

/// The action name as the guard compares it: ASCII letters and digits, lower case, so that
/// `runinstances`, `Run_Instances` and ` RunInstances` all read as `runinstances`.
pub fn canonical(action: &str) -> String {
    // By bytes into a buffer of the final size at most (several times per call: the bytes of
    // a multi-byte character are never ASCII letters or digits, so this equals a walk by chars).
    let mut out = String::with_capacity(action.len());
    out.extend(
        action
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| char::from(b.to_ascii_lowercase())),
    );
    out
}

/// `canonical(name) == canon`, without building `canonical(name)`: the guard compares a
/// request's action with every registry entry on every call's path (BENCHMARKS.md, client
/// overhead), so these comparisons must not allocate.
pub fn canonical_eq(name: &str, canon: &str) -> bool {
    let mut want = canon.bytes();
    name.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .all(|b| want.next() == Some(b.to_ascii_lowercase()))
        && want.next().is_none()
}

/// Checks a request as a script wrote it (ecsh-only options still inside `params`).
pub fn check(action: &str, params: &Map<String, Value>) -> Result<(), PolicyViolation> {
    let invalid = |e: crate::rpc::params::ParamError| PolicyViolation {
        rule: PolicyRule::InvalidParams,
        message: e.to_string(),
    };
    let mut params = params.clone();
    let options = params::take_ecsh_options(&mut params).map_err(invalid)?;
    check_flat(action, &Flat::of(&params).map_err(invalid)?, &options)
}

/// Checks a request whose ecsh-only options were already taken out into `options`.
pub fn check_flat(action: &str, params: &Flat, options: &Flat) -> Result<(), PolicyViolation> {
    refuse_user_data(action, params)?;
    refuse_lasting_data_disks(action, params)?;
    if is_ingress(action) {
        check_ingress(action, params, options)?;
    }
    Ok(())
}

fn refuse_user_data(action: &str, params: &Flat) -> Result<(), PolicyViolation> {
    match params.anywhere("UserData").first() {
        None => Ok(()),
        Some((key, _)) => Err(PolicyViolation {
            rule: PolicyRule::UserData,
            message: format!(
                "refused: {action} carries `{key}`, and ecsh never sends UserData: a boot-time \
                 script runs unobserved and cannot be retried. Create the instance without it, \
                 then run the script with run_command / run_command_and_wait (Cloud Assistant), \
                 which returns its output and exit code."
            ),
        }),
    }
}

fn refuse_lasting_data_disks(action: &str, params: &Flat) -> Result<(), PolicyViolation> {
    if !matches!(
        canonical(action).as_str(),
        "runinstances" | "createinstance"
    ) {
        return Ok(());
    }
    let lasting = params
        .anywhere("DeleteWithInstance")
        .into_iter()
        .find(|(k, v)| {
            k.to_ascii_lowercase().starts_with("datadisk.")
                && v.trim().eq_ignore_ascii_case("false")
        });
    match lasting {
        None => Ok(()),
        Some((key, _)) => Err(PolicyViolation {
            rule: PolicyRule::LastingDataDisk,
            message: format!(
                "refused: {action} carries `{key}=false`: that data disk would outlive its \
                 instance, and {action} answers only instance ids, so the run could never release \
                 it. Create the disk with create_disk and attach it with attach_disk: the run then \
                 tracks it and releases it (detached first) unless you keep it."
            ),
        }),
    }
}

/// One inbound rule as the request states it: every value given for each field (more than one
/// when the script sent differently-cased copies).
struct Rule<'a> {
    label: String,
    fields: &'a Flat,
    allow_admin: bool,
}

fn check_ingress(action: &str, params: &Flat, options: &Flat) -> Result<(), PolicyViolation> {
    let top_allow = allow_flag(options.get("allow_public_admin"), "allow_public_admin")?;
    let elements: Vec<(u32, Flat)> = params
        .indices("Permissions")
        .into_iter()
        .map(|n| (n, params.element("Permissions", n)))
        .collect();
    for (n, fields) in &elements {
        let key = format!("Permissions.{n}.allow_public_admin");
        let own = allow_flag(options.get(&key), &key)?;
        check_rule(
            action,
            &Rule {
                label: format!("rule Permissions.{n}"),
                fields,
                allow_admin: top_allow || own,
            },
        )?;
    }
    // The old flat form: the rule's fields at the top level.
    let flat_fields = [
        "PortRange",
        "SourceCidrIp",
        "Ipv6SourceCidrIp",
        "IpProtocol",
    ];
    if flat_fields.iter().any(|f| !params.all(f).is_empty()) {
        check_rule(
            action,
            &Rule {
                label: "the rule".into(),
                fields: params,
                allow_admin: top_allow,
            },
        )?;
    }
    Ok(())
}

fn allow_flag(value: Option<&str>, key: &str) -> Result<bool, PolicyViolation> {
    match value {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(PolicyViolation {
            rule: PolicyRule::BadOption,
            message: format!(
                "`{key}` must be true or false, not `{}`",
                super::block::escape(v)
            ),
        }),
    }
}

fn check_rule(action: &str, rule: &Rule) -> Result<(), PolicyViolation> {
    if rule
        .fields
        .all("Policy")
        .iter()
        .all(|p| p.eq_ignore_ascii_case("drop"))
        && !rule.fields.all("Policy").is_empty()
    {
        return Ok(()); // a drop rule closes, it never opens
    }
    let Some(source) = public_source(action, rule)? else {
        return Ok(());
    };
    if carries_no_ports(rule.fields) {
        return Ok(());
    }
    let ranges = port_ranges(action, rule, &source)?;
    let hits = |table: &[Sensitive]| -> Vec<String> {
        table
            .iter()
            .filter(|p| ranges.iter().any(|&(a, b)| a <= p.to && p.from <= b))
            .map(describe_port)
            .collect()
    };
    let databases = hits(DATABASE_PORTS);
    if !databases.is_empty() {
        return Err(PolicyViolation {
            rule: PolicyRule::PublicDatabasePort,
            message: format!(
                "refused: {action} {} would open {} to the whole internet (source {source}). \
                 Database ports are never exposed to the internet. Instead restrict the source \
                 (source_cidr_ip / SourceCidrIp) to the clients that need it — your own IP as \
                 a /32 such as 203.0.113.5/32, or your VPC's CIDR — or reach the database over \
                 an SSH tunnel from an allowed address.",
                rule.label,
                databases.join(", ")
            ),
        });
    }
    let admin = hits(ADMIN_PORTS);
    if !admin.is_empty() && !rule.allow_admin {
        return Err(PolicyViolation {
            rule: PolicyRule::PublicAdminPort,
            message: format!(
                "refused: {action} {} would open {} to the whole internet (source {source}). \
                 Restrict the source (source_cidr_ip / SourceCidrIp) to your own IP as a /32 \
                 such as 203.0.113.5/32, or run commands through Cloud Assistant \
                 (run_command) instead of logging in. If you really mean to open it to \
                 everyone, add `allow_public_admin: true` to this rule.",
                rule.label,
                admin.join(", ")
            ),
        });
    }
    Ok(())
}

fn describe_port(p: &Sensitive) -> String {
    if p.from == p.to {
        format!("port {} ({})", p.from, p.what)
    } else {
        format!("ports {}-{} ({})", p.from, p.to, p.what)
    }
}

/// The first source of the rule that covers the whole internet, if any.
fn public_source(action: &str, rule: &Rule) -> Result<Option<String>, PolicyViolation> {
    for key in ["SourceCidrIp", "Ipv6SourceCidrIp"] {
        for cidr in rule.fields.all(key) {
            match is_internet_wide(cidr) {
                Some(true) => return Ok(Some(super::block::escape(cidr))),
                Some(false) => {}
                None => {
                    return Err(PolicyViolation {
                        rule: PolicyRule::UnreadableRule,
                        message: format!(
                            "refused: {action} {}: `{key}` = `{}` is not an address or CIDR \
                             block (expected e.g. 203.0.113.5/32 or 2001:db8::/64).",
                            rule.label,
                            super::block::escape(cidr)
                        ),
                    })
                }
            }
        }
    }
    Ok(None)
}

/// `Some(true)` for a CIDR block that covers the whole internet (see the module doc),
/// `Some(false)` for a narrower one, `None` when it cannot be read.
pub fn is_internet_wide(cidr: &str) -> Option<bool> {
    let cidr = cidr.trim();
    let (addr, len) = match cidr.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (cidr, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let (len, wide_below) = match ip {
        IpAddr::V4(_) => (len.unwrap_or(32), 8),
        IpAddr::V6(_) => (len.unwrap_or(128), 16),
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some(len < wide_below)
}

/// Protocols without ports (ICMP, ICMPv6, GRE) open none of the sensitive services. Any other
/// value, or none, is judged by its ports.
fn carries_no_ports(fields: &Flat) -> bool {
    let protocols = fields.all("IpProtocol");
    !protocols.is_empty()
        && protocols.iter().all(|p| {
            ["icmp", "icmpv6", "gre"]
                .iter()
                .any(|q| q.eq_ignore_ascii_case(p.trim()))
        })
}

/// The inclusive port ranges the rule opens. Protocol `ALL` and `-1/-1` mean every port.
fn port_ranges(
    action: &str,
    rule: &Rule,
    source: &str,
) -> Result<Vec<(u16, u16)>, PolicyViolation> {
    if rule
        .fields
        .all("IpProtocol")
        .iter()
        .any(|p| p.trim().eq_ignore_ascii_case("all"))
    {
        return Ok(vec![(1, 65535)]);
    }
    let given = rule.fields.all("PortRange");
    if given.is_empty() {
        return Err(unreadable(
            action,
            rule,
            source,
            "it names no PortRange".into(),
        ));
    }
    given
        .iter()
        .map(|r| {
            parse_port_range(r).ok_or_else(|| {
                unreadable(
                    action,
                    rule,
                    source,
                    format!("PortRange `{}` is not `start/end`", super::block::escape(r)),
                )
            })
        })
        .collect()
}

fn unreadable(action: &str, rule: &Rule, source: &str, why: String) -> PolicyViolation {
    PolicyViolation {
        rule: PolicyRule::UnreadableRule,
        message: format!(
            "refused: {action} {} is open to the whole internet (source {source}) but {why}. \
             A rule open to the internet must say exactly which ports it opens, as `start/end` \
             (`80/80`, `8000/8080`); or narrow the source to your IP/32.",
            rule.label
        ),
    }
}

/// `start/end` → inclusive range; `-1/-1` → every port.
pub fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let (a, b) = text.trim().split_once('/')?;
    if a.trim() == "-1" && b.trim() == "-1" {
        return Some((1, 65535));
    }
    let from: u16 = a.trim().parse().ok()?;
    let to: u16 = b.trim().parse().ok()?;
    (from >= 1 && from <= to).then_some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test literal is an object"),
        }
    }

    #[test]
    fn canonical_eq_agrees_with_comparing_canonical_forms() {
        let names = [
            "RunInstances",
            "runinstances",
            "Run_Instances",
            " RunInstances ",
            "RunInstance",
            "RunInstancesX",
            "Rün",
            "",
            "_",
            "Describe-Regions",
        ];
        for a in names {
            for b in names {
                assert_eq!(
                    canonical_eq(a, &canonical(b)),
                    canonical(a) == canonical(b),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }

    #[test]
    fn canonical_by_bytes_is_canonical_by_chars() {
        for s in [
            "Run_Instances",
            " Rün9 ",
            "ÄÖü",
            "",
            "a1-B2",
            "RunＩnstances",
        ] {
            let by_chars: String = s
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect();
            assert_eq!(canonical(s), by_chars, "{s:?}");
        }
    }

    fn rule_of(action: &str, v: Value) -> Result<(), PolicyRule> {
        check(action, &req(v)).map_err(|e| e.rule)
    }

    #[test]
    fn a_data_disk_that_would_outlive_its_instance_is_refused_with_the_alternative() {
        let lasting =
            json!({"DataDisk": [{"Size": 40}, {"Size": 40, "DeleteWithInstance": false}]});
        let err = check("RunInstances", &req(lasting)).unwrap_err();
        assert_eq!(err.rule, PolicyRule::LastingDataDisk);
        assert!(
            err.message.contains("DataDisk.2.DeleteWithInstance=false"),
            "{}",
            err.message
        );
        assert!(err.message.contains("create_disk"), "{}", err.message);
        let with = json!({"DataDisk": [{"Size": 40, "DeleteWithInstance": true}]});
        assert!(check("RunInstances", &req(with)).is_ok());
        // AttachDisk's own DeleteWithInstance=false is the normal, tracked case.
        assert!(check("AttachDisk", &req(json!({"DeleteWithInstance": false}))).is_ok());
    }

    #[test]
    fn user_data_is_refused_on_any_action_with_the_alternative() {
        for action in ["RunInstances", "CreateInstance", "ModifyInstanceAttribute"] {
            let err = check(action, &req(json!({"UserData": "IyEvYmluL3No"}))).unwrap_err();
            assert_eq!(err.rule, PolicyRule::UserData);
            assert!(err.message.contains("run_command"), "{}", err.message);
        }
        assert_eq!(
            rule_of("RunInstances", json!({"userdata": "x"})),
            Err(PolicyRule::UserData)
        );
        assert_eq!(
            rule_of("RunInstances", json!({"Extra": {"UserData": "x"}})),
            Err(PolicyRule::UserData)
        );
        assert_eq!(
            rule_of("RunInstances", json!({"InstanceType": "ecs.g7.large"})),
            Ok(())
        );
    }

    #[test]
    fn database_ports_open_to_the_internet_are_refused_in_both_rule_forms() {
        let db = Err(PolicyRule::PublicDatabasePort);
        let list = |port: &str, proto: &str, cidr: &str| {
            json!({"SecurityGroupId": "sg-1",
                   "Permissions": [{"IpProtocol": proto, "PortRange": port, "SourceCidrIp": cidr}]})
        };
        for port in [
            "3306/3306",
            "5432/5432",
            "6379/6379",
            "27017/27017",
            "1433/1433",
            "1521/1521",
            "9200/9200",
            "9300/9300",
            "11211/11211",
            "5984/5984",
            "7000/7000",
            "9042/9042",
            "2379/2379",
            "3000/4000",
            "1/65535",
            "-1/-1",
        ] {
            assert_eq!(
                rule_of("AuthorizeSecurityGroup", list(port, "TCP", "0.0.0.0/0")),
                db,
                "{port}"
            );
            let flat = json!({"SecurityGroupId": "sg-1", "IpProtocol": "tcp", "PortRange": port,
                              "SourceCidrIp": "0.0.0.0/0"});
            assert_eq!(rule_of("AuthorizeSecurityGroup", flat), db, "flat {port}");
        }
        assert_eq!(
            rule_of("AuthorizeSecurityGroup", list("-1/-1", "ALL", "0.0.0.0/0")),
            db
        );
        let v6 = json!({"Permissions": [{"IpProtocol": "TCP", "PortRange": "5432/5432",
                                         "Ipv6SourceCidrIp": "::/0"}]});
        assert_eq!(rule_of("AuthorizeSecurityGroup", v6), db);
        // A huge range is the internet too; a narrow one is not.
        assert_eq!(
            rule_of(
                "AuthorizeSecurityGroup",
                list("3306/3306", "TCP", "0.0.0.0/1")
            ),
            db
        );
        assert_eq!(
            rule_of(
                "AuthorizeSecurityGroup",
                list("3306/3306", "TCP", "10.0.0.0/8")
            ),
            Ok(())
        );
        assert_eq!(
            rule_of(
                "AuthorizeSecurityGroup",
                list("3306/3306", "TCP", "203.0.113.5/32")
            ),
            Ok(())
        );
        // Modifying a rule to open it is the same as adding it.
        assert_eq!(
            rule_of(
                "ModifySecurityGroupRule",
                list("6379/6379", "TCP", "0.0.0.0/0")
            ),
            db
        );
        // Odd spelling of the action changes nothing.
        assert_eq!(
            rule_of(
                "authorizeSecurityGroup",
                list("6379/6379", "TCP", "0.0.0.0/0")
            ),
            db
        );
    }

    #[test]
    fn the_refusal_says_what_to_do_instead() {
        let err = check(
            "AuthorizeSecurityGroup",
            &req(json!({"PortRange": "3306/3306", "SourceCidrIp": "0.0.0.0/0"})),
        )
        .unwrap_err();
        assert!(
            err.message.contains("port 3306 (MySQL/MariaDB)"),
            "{}",
            err.message
        );
        assert!(err.message.contains("/32"), "{}", err.message);
    }

    #[test]
    fn web_ports_icmp_egress_and_drop_rules_pass() {
        let open = |port: &str| {
            json!({"Permissions": [{"IpProtocol": "TCP", "PortRange": port,
                                                        "SourceCidrIp": "0.0.0.0/0"}]})
        };
        assert_eq!(rule_of("AuthorizeSecurityGroup", open("80/80")), Ok(()));
        assert_eq!(rule_of("AuthorizeSecurityGroup", open("443/443")), Ok(()));
        let icmp = json!({"IpProtocol": "ICMP", "PortRange": "-1/-1", "SourceCidrIp": "0.0.0.0/0"});
        assert_eq!(rule_of("AuthorizeSecurityGroup", icmp), Ok(()));
        let drop = json!({"IpProtocol": "TCP", "PortRange": "3306/3306", "SourceCidrIp": "0.0.0.0/0",
                          "Policy": "drop"});
        assert_eq!(rule_of("AuthorizeSecurityGroup", drop), Ok(()));
        // Egress is outbound: not this policy's business.
        assert_eq!(
            rule_of("AuthorizeSecurityGroupEgress", open("3306/3306")),
            Ok(())
        );
    }

    #[test]
    fn ssh_and_rdp_need_allow_public_admin() {
        let admin = Err(PolicyRule::PublicAdminPort);
        let ssh = json!({"Permissions": [{"IpProtocol": "TCP", "PortRange": "22/22",
                                          "SourceCidrIp": "0.0.0.0/0"}]});
        assert_eq!(rule_of("AuthorizeSecurityGroup", ssh), admin);
        let rdp = json!({"PortRange": "3389/3389", "SourceCidrIp": "0.0.0.0/0"});
        assert_eq!(rule_of("AuthorizeSecurityGroup", rdp.clone()), admin);
        let mut allowed = rdp;
        allowed["allow_public_admin"] = json!(true);
        assert_eq!(rule_of("AuthorizeSecurityGroup", allowed), Ok(()));
        let per_rule = json!({"Permissions": [
            {"IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0",
             "allow_public_admin": true},
            {"IpProtocol": "TCP", "PortRange": "3389/3389", "SourceCidrIp": "0.0.0.0/0"}]});
        let err = check("AuthorizeSecurityGroup", &req(per_rule)).unwrap_err();
        assert_eq!(err.rule, PolicyRule::PublicAdminPort);
        assert!(
            err.message.contains("Permissions.2") && err.message.contains("RDP"),
            "{}",
            err.message
        );
        let from_me = json!({"PortRange": "22/22", "SourceCidrIp": "203.0.113.5/32"});
        assert_eq!(rule_of("AuthorizeSecurityGroup", from_me), Ok(()));
    }

    #[test]
    fn allow_public_admin_never_opens_a_database() {
        let all = json!({"IpProtocol": "TCP", "PortRange": "1/65535", "SourceCidrIp": "0.0.0.0/0",
                         "allow_public_admin": true});
        assert_eq!(
            rule_of("AuthorizeSecurityGroup", all),
            Err(PolicyRule::PublicDatabasePort)
        );
    }

    #[test]
    fn rules_that_cannot_be_read_are_refused_when_public() {
        let bad = Err(PolicyRule::UnreadableRule);
        for range in ["3306", "abc", "90/80", "0/10", ""] {
            let r = json!({"IpProtocol": "TCP", "PortRange": range, "SourceCidrIp": "0.0.0.0/0"});
            assert_eq!(rule_of("AuthorizeSecurityGroup", r), bad, "{range}");
        }
        let no_ports = json!({"SourceCidrIp": "0.0.0.0/0", "SecurityGroupRuleId": "sgr-1"});
        assert_eq!(rule_of("ModifySecurityGroupRule", no_ports), bad);
        let bad_cidr = json!({"PortRange": "80/80", "SourceCidrIp": "everyone"});
        assert_eq!(rule_of("AuthorizeSecurityGroup", bad_cidr), bad);
        let bad_flag = json!({"PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0",
                              "allow_public_admin": "yes"});
        assert_eq!(
            rule_of("AuthorizeSecurityGroup", bad_flag),
            Err(PolicyRule::BadOption)
        );
    }

    #[test]
    fn differently_cased_copies_cannot_hide_a_port() {
        let r =
            json!({"PortRange": "80/80", "portrange": "3306/3306", "SourceCidrIp": "0.0.0.0/0"});
        assert_eq!(
            rule_of("AuthorizeSecurityGroup", r),
            Err(PolicyRule::PublicDatabasePort)
        );
    }

    #[test]
    fn cidr_width() {
        assert_eq!(is_internet_wide("0.0.0.0/0"), Some(true));
        assert_eq!(is_internet_wide("::/0"), Some(true));
        assert_eq!(is_internet_wide("2000::/3"), Some(true));
        assert_eq!(is_internet_wide("10.0.0.0/8"), Some(false));
        assert_eq!(is_internet_wide("1.2.3.4"), Some(false));
        assert_eq!(is_internet_wide("1.2.3.4/33"), None);
        assert_eq!(is_internet_wide("nope/0"), None);
    }
}
