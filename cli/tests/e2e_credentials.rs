//! `cvm-keypairs credentials` and the region from a profile, through the real binary: which
//! source wins when several are set up, with no secret ever printed.

mod cli_support;

use cli_support::*;

/// `credentials --json` with `creds`, HOME holding `files` (path relative to HOME, contents)
/// and `env` on top.
fn credentials(creds: Creds, files: &[(&str, &str)], env: &[(&str, &str)], extra: &[&str]) -> Out {
    let home = TempDir::new("credentials-home");
    for (path, contents) in files {
        let path = home.0.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        set_private(&path);
    }
    let home_dir = home.0.to_str().unwrap().to_owned();
    let mut env = env.to_vec();
    env.push(("HOME", &home_dir));
    let mut args = vec!["credentials", "--json"];
    args.extend_from_slice(extra);
    run_with(&args, creds, None, &env)
}

#[cfg(unix)]
fn set_private(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

const PROFILES: &str = "\
[default]
secret_id = AKIDdefault000000000000000000000
secret_key = default-SECRET-never-printed
region = ap-shanghai

[prod]
secret_id = AKIDprod000000000000000000000000
secret_key = prod-SECRET-never-printed
";

fn assert_no_profile_secret(out: &Out) {
    for secret in ["default-SECRET-never-printed", "prod-SECRET-never-printed", "tccli-SECRET-never-printed"]
    {
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret), "{out:?}");
    }
}

#[test]
fn the_environment_wins_over_a_profile_and_the_profile_still_gives_the_region() {
    let out = credentials(Creds::Good(None), &[(".tencentcloud/credentials", PROFILES)], &[], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let json = out.json();
    let source = json["source"].as_str().unwrap();
    assert!(source.starts_with("environment (TENCENTCLOUD_SECRET_ID"), "{source}");
    assert_eq!(json["region"], "ap-shanghai", "no --region nor TENCENTCLOUD_REGION: the profile's");
    assert_no_profile_secret(&out);
    let given = credentials(
        Creds::Good(None),
        &[(".tencentcloud/credentials", PROFILES)],
        &[],
        &["--region", "ap-beijing"],
    );
    assert_eq!(given.json()["region"], "ap-beijing", "--region wins");
    let env = credentials(
        Creds::Good(None),
        &[(".tencentcloud/credentials", PROFILES)],
        &[("TENCENTCLOUD_REGION", "ap-chengdu")],
        &[],
    );
    assert_eq!(env.json()["region"], "ap-chengdu", "TENCENTCLOUD_REGION wins over the profile");
}

#[test]
fn a_profile_alone_and_a_profile_asked_for_by_name() {
    let alone = credentials(
        Creds::Good(None),
        &[(".tencentcloud/credentials", PROFILES)],
        &[],
        &["--profile", "default"],
    );
    assert_eq!(alone.code, 0, "{alone:?}");
    let source = alone.json()["source"].as_str().unwrap().to_owned();
    assert!(
        source.starts_with("profile \"default\" in ") && source.ends_with(".tencentcloud/credentials"),
        "{source}"
    );
    let prod = credentials(
        Creds::Good(None),
        &[(".tencentcloud/credentials", PROFILES)],
        &[],
        &["--profile", "prod", "--region", "ap-guangzhou"],
    );
    assert_eq!(prod.code, 0, "{prod:?}");
    assert!(prod.json()["source"].as_str().unwrap().starts_with("profile \"prod\""), "{prod:?}");
    let no_region = credentials(
        Creds::Good(None),
        &[(".tencentcloud/credentials", PROFILES)],
        &[],
        &["--profile", "prod"],
    );
    assert_eq!(no_region.code, 3, "the prod section has no region: {no_region:?}");
    assert!(no_region.stderr.contains("give the profile a region"), "{}", no_region.stderr);
    assert_no_profile_secret(&prod);
}

#[test]
fn tccli_files_are_read_when_there_is_no_ini_file() {
    let files = [
        (
            ".tccli/default.credential",
            r#"{"secretId":"AKIDtccli00000000000000000000000","secretKey":"tccli-SECRET-never-printed"}"#,
        ),
        (".tccli/default.configure", r#"{"_sys_param":{"region":"ap-nanjing","output":"json"}}"#),
    ];
    // No environment keys, and an empty TENCENTCLOUD_CREDENTIALS_FILE counts as unset: no
    // INI file at home or in /etc, so tccli's files are the source.
    let out = credentials(Creds::None, &files, &[("TENCENTCLOUD_CREDENTIALS_FILE", "")], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let json = out.json();
    assert!(json["source"].as_str().unwrap().starts_with("tccli profile \"default\""), "{json}");
    assert_eq!(json["region"], "ap-nanjing");
    assert_no_profile_secret(&out);
}

#[test]
fn no_source_at_all_is_exit_3_naming_each_source_tried() {
    let out = run(&["credentials", "--region", REGION, "--json"], Creds::None, None);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("no-such-credentials-file"), "{}", out.stderr);
    let help = run(&["credentials", "--help"], Creds::None, None);
    assert_eq!(help.code, 0);
    for name in [
        "TENCENTCLOUD_SESSION_TOKEN",
        "TENCENTCLOUD_ROLE_ARN",
        "TKE_WEB_IDENTITY_TOKEN_FILE",
        "/etc/tencentcloud",
    ] {
        assert!(help.stdout.contains(name), "help names {name}");
    }
}
