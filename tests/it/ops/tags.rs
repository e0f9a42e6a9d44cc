//! Tags (issue 15): scripts/tagging.rhai through the binary, and the run's `ecsh:run` tag
//! kept out of reach of `ecsh call` as of scripts (set, changed, removed, or removed with
//! every tag): refused with `Refused.RunTag`, the tag unchanged on the simulator.

use super::{line, script, Sim};
use ecsh::ops::Product::Ecs;

#[test]
fn tagging_labels_finds_and_unlabels_but_never_touches_the_run_tag() {
    let sim = Sim::start(&[]);
    let out = sim.run_ok(&script("tagging.rhai"), &["shop"]);
    assert_eq!(
        line(&out, "tier=data: "),
        "tier=data: 1 group(s), the db group: true"
    );
    assert_eq!(line(&out, "team=shop: "), "team=shop: 2 group(s)");
    assert_eq!(line(&out, "web: "), "web: [\"team=shop\"]");
    let refused: Vec<&String> = out.iter().filter(|l| l.starts_with("refused: ")).collect();
    assert_eq!(refused, ["refused: Refused.RunTag"; 3], "{out:#?}");
    assert_eq!(
        line(&out, "web still carries "),
        "web still carries ecsh:run: true"
    );
    assert!(!out.iter().any(|l| l.contains("should not happen")));
    assert_eq!(sim.inventory(), Vec::<String>::new());
}

#[test]
fn ecsh_call_cannot_overwrite_or_remove_the_run_tag_either() {
    let sim = Sim::start(&[]);
    let (_, _, sg) = sim.network();
    sim.ok(
        Ecs,
        "TagResources",
        &[
            ("ResourceType", "securitygroup"),
            ("ResourceId.1", &sg),
            ("Tag.1.Key", "ecsh:run"),
            ("Tag.1.Value", "r-original"),
        ],
    );
    let res = format!("ResourceId.1={sg}");
    for args in [
        vec![
            "TagResources",
            "ResourceType=securitygroup",
            &res,
            "Tag.1.Key=ecsh:run",
            "Tag.1.Value=r-forged",
        ],
        vec![
            "UntagResources",
            "ResourceType=securitygroup",
            &res,
            "TagKey.1=ecsh:run",
        ],
        vec![
            "UntagResources",
            "ResourceType=securitygroup",
            &res,
            "All=true",
        ],
    ] {
        let mut all = vec!["--yes", "call", "ecs"];
        all.extend(args.iter().copied());
        let out = sim.ecsh(&all);
        let err = crate::support::text(&out.stderr);
        assert!(!out.status.success(), "{args:?} was sent");
        assert!(
            err.contains("ecsh:run") && err.contains("cleanup"),
            "{args:?}: {err}"
        );
    }
    let tags = sim.ok(
        Ecs,
        "ListTagResources",
        &[("ResourceType", "securitygroup"), ("ResourceId.1", &sg)],
    );
    assert_eq!(
        tags["TagResources"]["TagResource"][0]["TagValue"], "r-original",
        "{tags}"
    );
    // Other tags are the script's to change.
    let out = sim.ecsh(&[
        "call",
        "ecs",
        "TagResources",
        "ResourceType=securitygroup",
        &res,
        "Tag.1.Key=team",
        "Tag.1.Value=web",
    ]);
    assert!(
        out.status.success(),
        "{}",
        crate::support::text(&out.stderr)
    );
}
