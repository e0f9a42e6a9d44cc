//! The strict rules of RunInstances/CreateInstance parameters that the real service enforces
//! and the lenient simulator forgave: `InstanceName` (2–128 characters) and `HostName` rules,
//! sequential names (`node-[1,3]`) and the `${instance_id}` placeholder, `PrivateIpAddress`,
//! `Period`/`PeriodUnit`, and parameters that name resources the simulator cannot hold (key
//! pairs, launch templates, …) or that it does not model, which are refused rather than
//! silently ignored.
//!
//! Each rule quotes its source: the parameter descriptions of the Tea SDK model
//! (alibabacloud-ecs20140526 7.11.8, `RunInstancesRequest`), which are generated from the
//! official API metadata. Must not: create anything (instances.rs does, with what this returns).

use super::super::SimError;
use super::network::{check_name, Cidr};
use super::params::Params;

/// The placeholder the API expands into the new instance's id.
const INSTANCE_ID: &str = "${instance_id}";

/// A name or hostname as asked, before it is expanded per instance.
#[derive(Clone, Debug)]
pub struct NamePattern(String);

impl NamePattern {
    /// The name of the `index`-th (0-based) instance of the request: `${instance_id}` replaced,
    /// a `[begin,bits]` sequence expanded (`node-[1,3]` → `node-001`, `node-002`), else the
    /// UniqueSuffix `001`, `002`, … appended when more than one instance is made.
    pub fn expand(&self, id: &str, index: u32, unique_suffix: bool, count: u32) -> String {
        let with_id = self.0.replace(INSTANCE_ID, id);
        if let Some((prefix, begin, bits, suffix)) = sequence(&with_id) {
            return format!(
                "{prefix}{:0width$}{suffix}",
                begin + u64::from(index),
                width = bits
            );
        }
        if unique_suffix && count > 1 {
            return format!("{with_id}{:03}", index + 1);
        }
        with_id
    }
}

/// `prefix[begin,bits]suffix`, the sequential-name form of the API ("Specify sequential
/// instance names or hostnames"): begin a non-negative number, bits 1 to 6.
fn sequence(name: &str) -> Option<(&str, u64, usize, &str)> {
    let open = name.find('[')?;
    let close = open + name[open..].find(']')?;
    let (begin, bits) = name[open + 1..close].split_once(',')?;
    let begin: u64 = begin.trim().parse().ok()?;
    let bits: usize = bits.trim().parse().ok().filter(|b| (1..=6).contains(b))?;
    Some((&name[..open], begin, bits, &name[close + 1..]))
}

/// `InstanceName`: "2 to 128 characters in length. It can contain letters and digits in
/// Unicode, and can include colons (:), underscores (_), periods (.), and hyphens (-)" plus the
/// sequence's brackets and comma. Lenient mode keeps the old check (1–128, no URL prefix).
pub fn instance_name(p: &Params) -> Result<Option<NamePattern>, SimError> {
    let Some(name) = p.str("InstanceName") else {
        return Ok(None);
    };
    if !p.strict() {
        check_name("InstanceName", name)?;
        return Ok(Some(NamePattern(name.to_string())));
    }
    let shown = name.replace(INSTANCE_ID, "i-bp1aaaaaaaaaaaaaaaaa");
    let len = shown.chars().count();
    let lower = shown.to_lowercase();
    let allowed = |c: char| c.is_alphanumeric() || ":_.-[],".contains(c);
    if !(2..=128).contains(&len)
        || lower.starts_with("http://")
        || lower.starts_with("https://")
        || !shown.chars().all(allowed)
    {
        return Err(SimError::new(
            400,
            "InvalidInstanceName.Malformed",
            format!(
                "The InstanceName \"{name}\" is not valid: use 2 to 128 Unicode letters and digits, \
                 colons (:), underscores (_), periods (.) and hyphens (-), not starting with \
                 http:// or https://."
            ),
        ));
    }
    Ok(Some(NamePattern(name.to_string())))
}

/// `HostName`: no leading, trailing or doubled `.` or `-`; Windows 2–15 characters without
/// periods and not all digits; other systems 2–64 characters of letters, digits, hyphens and
/// periods. Checked as the first instance would get it (placeholder and sequence expanded).
pub fn host_name(p: &Params, windows: bool) -> Result<Option<NamePattern>, SimError> {
    let Some(raw) = p.str("HostName") else {
        return Ok(None);
    };
    let pattern = NamePattern(raw.to_string());
    if !p.strict() {
        return Ok(Some(pattern));
    }
    let first = pattern.expand("i-bp1aaaaaaaaaaaaaaaaa", 0, false, 1);
    let bad = |why: &str| {
        SimError::new(
            400,
            "InvalidHostName.Malformed",
            format!("The HostName \"{raw}\" is not valid: {why}."),
        )
    };
    let len = first.chars().count();
    if first.starts_with(['.', '-'])
        || first.ends_with(['.', '-'])
        || first.contains("..")
        || first.contains("--")
    {
        return Err(bad(
            "it cannot start or end with a period or hyphen, or contain two in a row",
        ));
    }
    let letters_digits_hyphens = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if windows {
        if !(2..=15).contains(&len)
            || first.contains('.')
            || first.chars().all(|c| c.is_ascii_digit())
            || !letters_digits_hyphens(&first)
        {
            return Err(bad("a Windows hostname is 2 to 15 letters, digits and hyphens, not only digits, without periods"));
        }
    } else if !(2..=64).contains(&len) || !first.split('.').all(letters_digits_hyphens) {
        return Err(bad(
            "a Linux hostname is 2 to 64 characters: letters, digits and hyphens, in segments separated by periods",
        ));
    }
    Ok(Some(pattern))
}

/// A subscription's length. Valid values per the model: Week 1–4; Month 1–9, 12, 24, 36, 48, 60.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Weeks(u32),
    Months(u32),
}

impl Period {
    /// Days until it expires (a month counted as 30 days, as the simulator's prices are).
    pub fn days(self) -> i64 {
        match self {
            Period::Weeks(n) => 7 * i64::from(n),
            Period::Months(n) => 30 * i64::from(n),
        }
    }

    /// How many months are billed (a week's subscription is billed as part of a month).
    pub fn billed_months(self) -> u32 {
        match self {
            Period::Weeks(_) => 1,
            Period::Months(n) => n,
        }
    }
}

const MONTHS: [u32; 14] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36, 48, 60];

/// `Period` and `PeriodUnit` of a PrePaid request.
pub fn period(p: &Params) -> Result<Period, SimError> {
    let unit = p
        .choice("PeriodUnit", &["Month", "Week"])?
        .unwrap_or("Month");
    let n = p.int("Period", 1, 60)?.ok_or_else(|| {
        SimError::new(
            400,
            "MissingParameter",
            "PrePaid (subscription) instances need Period (and PeriodUnit Month or Week).",
        )
    })? as u32;
    let valid = match unit {
        "Week" => (1..=4).contains(&n),
        _ => MONTHS.contains(&n),
    };
    if p.strict() && !valid {
        return Err(SimError::new(
            400,
            "InvalidPeriod",
            format!(
                "Period {n} is not valid with PeriodUnit {unit}: use 1 to 4 weeks, or 1 to 9, 12, \
                 24, 36, 48 or 60 months."
            ),
        ));
    }
    Ok(match unit {
        "Week" => Period::Weeks(n),
        _ => Period::Months(n),
    })
}

/// Parameters naming resources that a simulated account never holds: on a fresh real account
/// they do not exist either, so the answer is the API's NotFound, not a silent success.
const ABSENT_RESOURCES: &[(&str, &str, &str)] = &[
    (
        "LaunchTemplateId",
        "InvalidLaunchTemplate.NotFound",
        "launch template",
    ),
    (
        "LaunchTemplateName",
        "InvalidLaunchTemplate.NotFound",
        "launch template",
    ),
    (
        "DeploymentSetId",
        "InvalidDeploymentSetId.NotFound",
        "deployment set",
    ),
    (
        "DedicatedHostId",
        "InvalidDedicatedHostId.NotFound",
        "dedicated host",
    ),
    (
        "HpcClusterId",
        "InvalidHpcClusterId.NotFound",
        "HPC cluster",
    ),
    ("RamRoleName", "InvalidRamRole.NotFound", "RAM role"),
    (
        "StorageSetId",
        "InvalidStorageSetId.NotFound",
        "storage set",
    ),
];

/// The RunInstances/CreateInstance parameters the simulator models (besides the protocol's).
const MODELLED: &[&str] = &[
    "RegionId",
    "ZoneId",
    "ImageId",
    "ImageFamily",
    "InstanceType",
    "VSwitchId",
    "SecurityGroupId",
    "InternetMaxBandwidthOut",
    "InternetMaxBandwidthIn",
    "InternetChargeType",
    "InstanceChargeType",
    "Period",
    "PeriodUnit",
    "SpotStrategy",
    "SpotPriceLimit",
    "InstanceName",
    "HostName",
    "Password",
    "UserData",
    "Description",
    "UniqueSuffix",
    "DeletionProtection",
    "AutoReleaseTime",
    "Amount",
    "MinAmount",
    "DryRun",
    "PrivateIpAddress",
    "SystemDisk.Category",
    "SystemDisk.Size",
    "SystemDisk.PerformanceLevel",
    "IoOptimized",
    "ResourceGroupId",
    "CreditSpecification",
    // Checked against the account's key pairs (issue 15, `keypairs::for_launch`).
    "KeyPairName",
];

/// Refuses parameters that name absent resources (NotFound) and, in strict mode, any other
/// parameter the simulator does not model: ignoring it would let a script pass here that
/// behaves differently on Alibaba Cloud.
pub fn refuse_unmodelled(p: &Params, protocol: &[&str]) -> Result<(), SimError> {
    if !p.strict() {
        return Ok(());
    }
    for (key, code, what) in ABSENT_RESOURCES {
        if let Some(v) = p.str(key) {
            return Err(SimError::new(
                404,
                *code,
                format!("The specified {what} \"{v}\" ({key}) does not exist in this account."),
            ));
        }
    }
    let listed = |k: &str, list: &str| {
        k.strip_prefix(list)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some()
    };
    for key in p.all().keys() {
        let k = key.as_str();
        let known = MODELLED.contains(&k)
            || protocol.contains(&k)
            || k.starts_with("x-acs-")
            || ["SecurityGroupIds", "Tag", "DataDisk"]
                .iter()
                .any(|l| listed(k, l));
        if !known {
            let near = MODELLED
                .iter()
                .map(|m| (crate::ops::edit_distance(m, k), *m))
                .filter(|(d, _)| *d <= 3)
                .min()
                .map(|(_, m)| format!(" Did you mean {m}?"))
                .unwrap_or_default();
            return Err(SimError::new(
                400,
                "InvalidParameter",
                format!(
                    "The parameter \"{k}\" is not modelled by the simulator, so it cannot honour \
                     it as Alibaba Cloud would; remove it, or run `ecsh sim --lenient` to have it \
                     ignored.{near}"
                ),
            ));
        }
    }
    Ok(())
}

/// `PrivateIpAddress`: inside the vswitch's CIDR block, not one of its reserved addresses (the
/// first and the last three), and not in use. Returns the host offset in the block.
pub fn private_ip(
    ip: &str,
    cidr: Cidr,
    vswitch_id: &str,
    in_use: impl Fn(&str) -> bool,
) -> Result<u32, SimError> {
    let bad = |why: String| SimError::new(400, "InvalidPrivateIpAddress", why);
    let addr: std::net::Ipv4Addr = ip.parse().map_err(|_| {
        bad(format!(
            "The PrivateIpAddress \"{ip}\" is not an IPv4 address."
        ))
    })?;
    let offset = u32::from(addr).wrapping_sub(cidr.base);
    let size = cidr.size();
    if u64::from(offset) >= size || offset == 0 || u64::from(offset) + 3 >= size {
        return Err(bad(format!(
            "The PrivateIpAddress {ip} is not a usable address of vswitch {vswitch_id} ({cidr}): \
             the first and the last three addresses are reserved."
        )));
    }
    if in_use(ip) {
        return Err(SimError::new(
            400,
            "InvalidPrivateIpAddress.Duplicated",
            format!("The PrivateIpAddress {ip} is already used in vswitch {vswitch_id}."),
        ));
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_placeholders_and_suffixes_expand() {
        let p = NamePattern("node-[1,3]".into());
        assert_eq!(p.expand("i-x", 0, true, 2), "node-001");
        assert_eq!(p.expand("i-x", 1, true, 2), "node-002");
        let p = NamePattern("k8s-${instance_id}".into());
        assert_eq!(p.expand("i-abc", 0, false, 1), "k8s-i-abc");
        let p = NamePattern("web".into());
        assert_eq!(p.expand("i-x", 1, true, 3), "web002");
        assert_eq!(p.expand("i-x", 1, false, 3), "web");
        let p = NamePattern("a[x,3]".into());
        assert_eq!(p.expand("i-x", 0, false, 1), "a[x,3]");
    }

    #[test]
    fn private_ips_must_be_usable_and_free() {
        let cidr = Cidr::parse("192.168.1.0/24").unwrap();
        assert_eq!(private_ip("192.168.1.10", cidr, "vsw", |_| false), Ok(10));
        for reserved in [
            "192.168.1.0",
            "192.168.1.253",
            "192.168.1.255",
            "10.0.0.1",
            "x",
        ] {
            let e = private_ip(reserved, cidr, "vsw", |_| false).unwrap_err();
            assert_eq!(e.code, "InvalidPrivateIpAddress", "{reserved}");
        }
        let e = private_ip("192.168.1.10", cidr, "vsw", |_| true).unwrap_err();
        assert_eq!(e.code, "InvalidPrivateIpAddress.Duplicated");
    }
}
