//! The credential chain, region and endpoint order, and `ecsh whoami`'s report, with an
//! injected environment and a temporary home directory.

use ecsh::rpc::{resolve, whoami_report, ConfigError, Overrides, Resolved};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;

const ENV_SECRET: &str = "env-SECRET-zz91";
const PROFILE_SECRET: &str = "profile-SECRET-qq42";
const STS_TOKEN: &str = "sts-TOKEN-ww77";

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn env_keys() -> HashMap<String, String> {
    env(&[
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenvkeyid00001111"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ENV_SECRET),
    ])
}

/// A home directory whose ~/.aliyun/config.json holds `config`.
fn home_with(config: serde_json::Value) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".aliyun");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    home
}

fn standard_home() -> tempfile::TempDir {
    home_with(json!({
        "current": "default",
        "profiles": [
            {"name": "default", "mode": "AK", "access_key_id": "LTAIdefaultkey0002222",
             "access_key_secret": PROFILE_SECRET, "region_id": "cn-beijing"},
            {"name": "dev", "mode": "AK", "access_key_id": "LTAIdevkeyid00003333",
             "access_key_secret": PROFILE_SECRET, "region_id": "ap-southeast-1"},
            {"name": "sts", "mode": "StsToken", "access_key_id": "STS.NTstskeyid4444",
             "access_key_secret": PROFILE_SECRET, "sts_token": STS_TOKEN, "region_id": "us-west-1"},
            {"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIrolekey55555",
             "access_key_secret": PROFILE_SECRET, "ram_role_arn": "acs:ram::1:role/x"},
            {"name": "half", "mode": "AK", "access_key_id": "LTAIhalfkey666666", "access_key_secret": ""}
        ]
    }))
}

fn run(
    flags: Overrides,
    env: &HashMap<String, String>,
    home: &Path,
) -> Result<Resolved, ConfigError> {
    resolve(&flags, env, Some(home))
}

fn profile_flag(name: &str) -> Overrides {
    Overrides {
        profile: Some(name.into()),
        ..Overrides::default()
    }
}

#[test]
fn env_beats_the_current_profile() {
    let home = standard_home();
    let r = run(Overrides::default(), &env_keys(), home.path()).unwrap();
    let c = r.static_credentials().unwrap();
    assert_eq!(c.access_key_id, "LTAIenvkeyid00001111");
    assert_eq!(c.secret.expose(), ENV_SECRET);
    assert_eq!(
        r.sources.access_key_id.as_deref(),
        Some("env ALIBABA_CLOUD_ACCESS_KEY_ID")
    );
    // The region still comes from the current profile when nothing else sets it.
    assert_eq!(r.region, "cn-beijing");
    assert!(
        r.sources.region.starts_with("profile 'default' in "),
        "{}",
        r.sources.region
    );
    let rows = whoami_report(&r);
    let profile = &rows.iter().find(|(k, _)| k == "profile").unwrap().1;
    assert!(
        profile.contains("credentials come from the environment"),
        "{profile}"
    );
}

#[test]
fn current_profile_is_used_without_env() {
    let home = standard_home();
    let r = run(Overrides::default(), &env(&[]), home.path()).unwrap();
    assert_eq!(
        r.static_credentials().unwrap().access_key_id,
        "LTAIdefaultkey0002222"
    );
    assert!(r
        .sources
        .access_key_id
        .unwrap()
        .starts_with("profile 'default' in "));
}

#[test]
fn explicit_profile_beats_env() {
    let home = standard_home();
    let r = run(profile_flag("dev"), &env_keys(), home.path()).unwrap();
    assert_eq!(
        r.static_credentials().unwrap().access_key_id,
        "LTAIdevkeyid00003333"
    );
    assert_eq!(r.region, "ap-southeast-1");
    assert!(r.sources.profile.unwrap().contains("flag --profile"));

    let mut e = env_keys();
    e.insert("ALIBABA_CLOUD_PROFILE".into(), "dev".into());
    let r = run(Overrides::default(), &e, home.path()).unwrap();
    assert_eq!(
        r.static_credentials().unwrap().access_key_id,
        "LTAIdevkeyid00003333"
    );
    assert!(r
        .sources
        .profile
        .unwrap()
        .contains("env ALIBABA_CLOUD_PROFILE"));

    // The flag beats the variable.
    let r = run(profile_flag("default"), &e, home.path()).unwrap();
    assert_eq!(
        r.static_credentials().unwrap().access_key_id,
        "LTAIdefaultkey0002222"
    );
}

#[test]
fn sts_token_profiles_carry_the_token() {
    let home = standard_home();
    let r = run(profile_flag("sts"), &env(&[]), home.path()).unwrap();
    let c = r.static_credentials().unwrap();
    assert_eq!(c.security_token.as_ref().unwrap().expose(), STS_TOKEN);
    assert!(r
        .sources
        .security_token
        .as_ref()
        .unwrap()
        .contains("profile 'sts'"));
}

#[test]
fn unsupported_modes_and_missing_profiles_are_explained() {
    let home = standard_home();
    // RamRoleArn is a source now (AssumeRole with the profile's keys), not an error.
    let r = run(profile_flag("role"), &env(&[]), home.path()).unwrap();
    let src = r.source.as_ref().unwrap();
    assert!(
        src.describe().starts_with("AssumeRole acs:ram::1:role/x"),
        "{}",
        src.describe()
    );
    assert!(
        src.origin.contains("profile 'role' (mode RamRoleArn)"),
        "{}",
        src.origin
    );

    let e = run(profile_flag("nope"), &env(&[]), home.path()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("'nope'") && text.contains("default, dev, sts"),
        "{text}"
    );

    let e = run(profile_flag("half"), &env(&[]), home.path()).unwrap_err();
    assert!(e.to_string().contains("access_key_secret"), "{e}");

    let bad_current = home_with(json!({"current": "gone", "profiles": []}));
    let e = run(Overrides::default(), &env(&[]), bad_current.path()).unwrap_err();
    assert!(matches!(e, ConfigError::ProfileNotFound { .. }), "{e}");
}

#[test]
fn half_set_env_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    for (vars, missing) in [
        (
            vec![("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIx0000000000")],
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        ),
        (
            vec![("ALICLOUD_SECRET_KEY", ENV_SECRET)],
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
        ),
        (
            vec![("ALIBABA_CLOUD_SECURITY_TOKEN", STS_TOKEN)],
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
        ),
    ] {
        let e = run(Overrides::default(), &env(&vars), home.path()).unwrap_err();
        assert!(matches!(e, ConfigError::HalfSetEnv { .. }), "{e}");
        let text = e.to_string();
        assert!(text.contains(missing), "{text}");
        assert!(
            !text.contains(ENV_SECRET) && !text.contains(STS_TOKEN),
            "{text}"
        );
    }
}

#[test]
fn older_variable_names_work() {
    let home = tempfile::tempdir().unwrap();
    let e = env(&[
        ("ALICLOUD_ACCESS_KEY", "LTAIoldname0000777"),
        ("ALICLOUD_SECRET_KEY", ENV_SECRET),
        ("ALICLOUD_SECURITY_TOKEN", STS_TOKEN),
        ("ALICLOUD_REGION", "cn-shenzhen"),
    ]);
    let r = run(Overrides::default(), &e, home.path()).unwrap();
    let c = r.static_credentials().unwrap();
    assert_eq!(c.access_key_id, "LTAIoldname0000777");
    assert_eq!(c.security_token.as_ref().unwrap().expose(), STS_TOKEN);
    assert_eq!(r.region, "cn-shenzhen");
    assert_eq!(
        r.sources.security_token.as_deref(),
        Some("env ALICLOUD_SECURITY_TOKEN")
    );

    let e = env(&[
        ("ALIBABACLOUD_ACCESS_KEY_ID", "LTAInewername00888"),
        ("ALIBABACLOUD_ACCESS_KEY_SECRET", ENV_SECRET),
        ("SECURITY_TOKEN", STS_TOKEN),
    ]);
    let r = run(Overrides::default(), &e, home.path()).unwrap();
    assert_eq!(
        r.static_credentials().unwrap().access_key_id,
        "LTAInewername00888"
    );
    assert_eq!(
        r.sources.security_token.as_deref(),
        Some("env SECURITY_TOKEN")
    );
}

#[test]
fn region_order_is_flag_env_profile_default() {
    let home = standard_home();
    let flags = Overrides {
        region: Some("eu-central-1".into()),
        ..Overrides::default()
    };
    let mut e = env(&[
        ("ALIBABA_CLOUD_REGION_ID", "cn-qingdao"),
        ("ALICLOUD_REGION", "cn-zhangjiakou"),
    ]);
    let r = run(flags, &e, home.path()).unwrap();
    assert_eq!(
        (r.region.as_str(), r.sources.region.as_str()),
        ("eu-central-1", "flag --region")
    );
    let r = run(Overrides::default(), &e, home.path()).unwrap();
    assert_eq!(
        (r.region.as_str(), r.sources.region.as_str()),
        ("cn-qingdao", "env ALIBABA_CLOUD_REGION_ID")
    );
    e.remove("ALIBABA_CLOUD_REGION_ID");
    let r = run(Overrides::default(), &e, home.path()).unwrap();
    assert_eq!(r.region, "cn-zhangjiakou");
    let r = run(Overrides::default(), &env(&[]), home.path()).unwrap();
    assert_eq!(r.region, "cn-beijing");
    let empty = tempfile::tempdir().unwrap();
    let r = run(Overrides::default(), &env(&[]), empty.path()).unwrap();
    assert_eq!(
        (r.region.as_str(), r.sources.region.as_str()),
        ("cn-hangzhou", "default")
    );
    assert!(r.source.is_none());
    assert!(matches!(
        r.require_source(),
        Err(ConfigError::NoCredentials)
    ));

    let bad = Overrides {
        region: Some("CN Hangzhou".into()),
        ..Overrides::default()
    };
    let e = run(bad, &env(&[]), empty.path()).unwrap_err();
    assert!(matches!(e, ConfigError::InvalidRegion { .. }), "{e}");
}

#[test]
fn endpoint_order_is_flag_then_env() {
    let home = tempfile::tempdir().unwrap();
    let e = env(&[("ALIBABA_CLOUD_ENDPOINT", "http://127.0.0.1:9000")]);
    let r = run(Overrides::default(), &e, home.path()).unwrap();
    assert_eq!(r.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert_eq!(
        r.sources.endpoint.as_deref(),
        Some("env ALIBABA_CLOUD_ENDPOINT")
    );
    let flags = Overrides {
        endpoint: Some("http://127.0.0.1:8080/".into()),
        ..Overrides::default()
    };
    let r = run(flags, &e, home.path()).unwrap();
    assert_eq!(r.endpoint.as_deref(), Some("http://127.0.0.1:8080"));
    assert_eq!(r.sources.endpoint.as_deref(), Some("flag --endpoint"));
    let bad = Overrides {
        endpoint: Some("ftp://x".into()),
        ..Overrides::default()
    };
    assert!(matches!(
        run(bad, &e, home.path()),
        Err(ConfigError::InvalidEndpoint { .. })
    ));
}

#[test]
fn a_broken_config_file_is_reported_without_its_contents() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".aliyun");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.json"),
        format!(
            r#"{{"profiles": [{{"name": "x", "access_key_secret": 5, "sts_token": "{STS_TOKEN}"}}"#
        ),
    )
    .unwrap();
    let e = run(Overrides::default(), &env(&[]), home.path()).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, ConfigError::ConfigFile { .. }));
    assert!(
        text.contains("config.json") && text.contains("line"),
        "{text}"
    );
    assert!(!text.contains(STS_TOKEN));
}

#[test]
fn whoami_names_sources_and_never_the_secret_or_token() {
    let home = standard_home();
    let cases = [
        run(profile_flag("sts"), &env(&[]), home.path()).unwrap(),
        run(Overrides::default(), &env_keys(), home.path()).unwrap(),
        run(
            Overrides::default(),
            &env(&[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenvkeyid00001111"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ENV_SECRET),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", STS_TOKEN),
                ("ALIBABA_CLOUD_ENDPOINT", "http://127.0.0.1:8080"),
            ]),
            home.path(),
        )
        .unwrap(),
    ];
    for r in &cases {
        let rows = whoami_report(r);
        let text = format!("{rows:?}");
        for leak in [ENV_SECRET, PROFILE_SECRET, STS_TOKEN] {
            assert!(!text.contains(leak), "whoami leaked: {text}");
        }
        let get = |k: &str| rows.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert!(get("region").unwrap().contains("(from "), "{text}");
        assert!(
            get("access key secret").unwrap().starts_with("set (from "),
            "{text}"
        );
    }
    let rows = whoami_report(&cases[2]);
    let get = |k: &str| {
        rows.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(
        get("access key id"),
        "LTAI****1111 (from env ALIBABA_CLOUD_ACCESS_KEY_ID)"
    );
    assert_eq!(
        get("security token"),
        "set (from env ALIBABA_CLOUD_SECURITY_TOKEN)"
    );
    assert_eq!(
        get("endpoint"),
        "http://127.0.0.1:8080 for ecs, vpc and sts (from env ALIBABA_CLOUD_ENDPOINT)"
    );
    let none = run(
        Overrides::default(),
        &env(&[]),
        tempfile::tempdir().unwrap().path(),
    )
    .unwrap();
    let rows = whoami_report(&none);
    assert!(rows
        .iter()
        .any(|(k, v)| k == "credentials" && v.starts_with("none found")));
    assert!(rows
        .iter()
        .any(|(k, v)| k == "endpoint" && v.contains("https://ecs-cn-hangzhou.aliyuncs.com")));
}

/// The source that wins with `vars` set and `home` as HOME: its chain entry's name.
fn winner(vars: &[(&str, &str)], home: &Path) -> String {
    let r = run(Overrides::default(), &env(vars), home).unwrap();
    let used: Vec<&str> = r
        .chain
        .iter()
        .filter(|s| s.status == "used")
        .map(|s| s.source)
        .collect();
    assert!(used.len() <= 1, "{:?}", r.chain);
    used.first().copied().unwrap_or("none").to_string()
}

#[test]
fn the_chain_order_is_explicit_env_current_ini_instance_role_uri() {
    let home = standard_home();
    let ini = home.path().join(".alibabacloud/credentials");
    std::fs::create_dir_all(ini.parent().unwrap()).unwrap();
    std::fs::write(
        &ini,
        "[default]\ntype = access_key\naccess_key_id = LTAIinikey000011\naccess_key_secret = s\n",
    )
    .unwrap();
    let oidc = [
        ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/ci"),
        (
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1:oidc-provider/p",
        ),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/tmp/token"),
    ];
    let later = [
        ("ALIBABA_CLOUD_ECS_METADATA", "role"),
        ("ALIBABA_CLOUD_CREDENTIALS_URI", "http://127.0.0.1:9/c"),
    ];
    let all: Vec<(&str, &str)> = [("ALIBABA_CLOUD_PROFILE", "dev")]
        .iter()
        .chain(&oidc)
        .chain(&later)
        .copied()
        .collect();
    let h = home.path();
    assert_eq!(winner(&all, h), "profile named explicitly");
    assert_eq!(winner(&all[1..], h), "environment");
    assert_eq!(winner(&later, h), "config file's current profile");
    let no_cli = [("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        no_cli.iter().chain(extra).copied().collect()
    };
    assert_eq!(winner(&with(&later), h), "INI file");
    std::fs::remove_file(&ini).unwrap();
    assert_eq!(winner(&with(&later), h), "ECS instance RAM role");
    assert_eq!(
        winner(
            &with(&[
                later[0],
                later[1],
                ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            ]),
            h
        ),
        "credentials URI"
    );
    assert_eq!(winner(&with(&[]), h), "none");
    // A boolean that is not one is an error naming the variable, not silently false.
    let e = run(
        Overrides::default(),
        &env(&[("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "yes please")]),
        h,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("ALIBABA_CLOUD_ECS_METADATA_DISABLED"),
        "{e}"
    );
}
