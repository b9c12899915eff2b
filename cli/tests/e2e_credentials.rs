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

const ROLE: &str = "qcs::cam::uin/100000000001:roleName/cvm-keypairs-emulator";
const WEB_TOKEN: &str = "web-identity-TOKEN-never-printed";

/// `command --json --region R --endpoint URL --sts-endpoint URL <extra>` with `creds` and `env`.
fn against(emu: &Emu, command: &str, extra: &[&str], creds: Creds, env: &[(&str, &str)]) -> Out {
    let mut args =
        vec![command, "--json", "--region", REGION, "--endpoint", &emu.url, "--sts-endpoint", &emu.url];
    args.extend_from_slice(extra);
    let out = run_with(&args, creds, None, env);
    assert!(!out.stdout.contains(WEB_TOKEN) && !out.stderr.contains(WEB_TOKEN), "{out:?}");
    out
}

fn actions(records: &[serde_json::Value]) -> Vec<String> {
    records.iter().map(|r| r["action"].as_str().unwrap_or_default().to_owned()).collect()
}

#[test]
fn a_role_named_in_the_environment_is_assumed_with_the_environment_s_keys() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    let env = [("TENCENTCLOUD_ROLE_ARN", ROLE), ("TENCENTCLOUD_ROLE_SESSION_NAME", "e2e-session")];
    let who = against(&emu, "credentials", &[], Creds::Good(None), &env);
    assert_eq!(who.code, 0, "{who:?}");
    let source = who.json()["source"].as_str().unwrap().to_owned();
    assert!(source.starts_with(&format!("assumed role {ROLE} with environment")), "{source}");
    let deleted = against(&emu, "delete", &["skey-aaaaaaaa"], Creds::Good(None), &env);
    assert_eq!(deleted.code, 0, "{deleted:?}");
    let records = emu.finish();
    let actions = actions(&records);
    assert_eq!(actions.iter().filter(|a| *a == "AssumeRole").count(), 2, "one per run: {actions:?}");
    assert!(actions.contains(&"DeleteKeyPairs".to_owned()), "{actions:?}");
    assert!(records.iter().all(|r| r["code"] == "OK"), "{records:?}");
}

#[test]
fn a_profile_s_role_arn_is_assumed_with_its_keys_unless_the_environment_has_keys() {
    let emu = Emu::start(&[], &[]);
    let home = TempDir::new("profile-role");
    let profile =
        format!("[default]\nsecret_id = {SECRET_ID}\nsecret_key = {SECRET_KEY}\nrole_arn = {ROLE}\n");
    let file = home.file("credentials", &profile);
    set_private(std::path::Path::new(&file));
    let env = [("TENCENTCLOUD_CREDENTIALS_FILE", file.as_str())];
    let out = against(&emu, "credentials", &[], Creds::None, &env);
    assert_eq!(out.code, 0, "{out:?}");
    let source = out.json()["source"].as_str().unwrap().to_owned();
    assert!(source.starts_with(&format!("assumed role {ROLE} with profile \"default\"")), "{source}");
    let named = against(&emu, "credentials", &["--profile", "default"], Creds::None, &env);
    assert!(named.json()["source"].as_str().unwrap().starts_with("assumed role"), "{named:?}");
    let env_keys = against(&emu, "credentials", &[], Creds::Good(None), &env);
    assert!(env_keys.json()["source"].as_str().unwrap().starts_with("environment"), "{env_keys:?}");
    assert_eq!(actions(&emu.finish()).iter().filter(|a| *a == "AssumeRole").count(), 2);
}

#[test]
fn web_identity_from_the_tke_variables_and_its_failures() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &["--web-identity-token", WEB_TOKEN]);
    let home = TempDir::new("web-identity");
    let token = home.file("token", WEB_TOKEN);
    // An empty TENCENTCLOUD_CREDENTIALS_FILE counts as unset: no profile anywhere.
    let tke = |file: &str, role: &str| -> Vec<(String, String)> {
        [
            ("TENCENTCLOUD_CREDENTIALS_FILE", ""),
            ("TKE_PROVIDER_ID", "OIDC"),
            ("TKE_WEB_IDENTITY_TOKEN_FILE", file),
            ("TKE_ROLE_ARN", role),
            ("TKE_REGION", REGION),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec()
    };
    let good = tke(&token, ROLE);
    let deleted = against(&emu, "delete", &["skey-aaaaaaaa"], Creds::None, &as_env(&good));
    assert_eq!(deleted.code, 0, "{deleted:?}");
    let env_wins = against(&emu, "credentials", &[], Creds::Good(None), &as_env(&good));
    assert!(env_wins.json()["source"].as_str().unwrap().starts_with("environment"), "{env_wins:?}");
    let missing = home.0.join("no-such-token").to_str().unwrap().to_owned();
    let unreadable = against(&emu, "credentials", &[], Creds::None, &as_env(&tke(&missing, ROLE)));
    assert_eq!(unreadable.code, 3, "{unreadable:?}");
    assert!(
        unreadable.stderr.contains("no-such-token")
            && unreadable.stderr.contains("TKE_WEB_IDENTITY_TOKEN_FILE"),
        "{}",
        unreadable.stderr
    );
    let wrong_role = "qcs::cam::uin/100000000001:roleName/no-such-role";
    let refused = against(&emu, "credentials", &[], Creds::None, &as_env(&tke(&token, wrong_role)));
    assert_eq!(refused.code, 3, "{refused:?}");
    let error = &refused.json()["error"];
    assert_eq!(error["code"], "ResourceNotFound.RoleNotFound", "{refused:?}");
    assert!(error["request_id"].is_string(), "the RequestId is kept: {refused:?}");
    assert!(refused.stderr.contains("web identity"), "says which source failed: {}", refused.stderr);
    let records = emu.finish();
    assert!(records.iter().any(|r| r["action"] == "AssumeRoleWithWebIdentity"), "{records:?}");
}

#[test]
fn a_wrong_role_arn_in_the_environment_is_exit_3_with_the_sts_code_and_request_id() {
    let emu = Emu::start(&[], &[]);
    let env = [("TENCENTCLOUD_ROLE_ARN", "qcs::cam::uin/100000000001:roleName/absent")];
    let out = against(&emu, "credentials", &[], Creds::Good(None), &env);
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(out.json()["error"]["code"], "ResourceNotFound.RoleNotFound", "{out:?}");
    assert!(out.stderr.contains("assumed role") && out.stderr.contains("RequestId"), "{}", out.stderr);
    let malformed =
        against(&emu, "credentials", &[], Creds::Good(None), &[("TENCENTCLOUD_ROLE_ARN", "cleanup")]);
    assert_eq!(malformed.code, 3, "{malformed:?}");
    assert!(malformed.stderr.contains("TENCENTCLOUD_ROLE_ARN"), "{}", malformed.stderr);
    assert_eq!(actions(&emu.finish()), ["AssumeRole"], "the malformed ARN is refused before sending");
}

fn as_env(vars: &[(String, String)]) -> Vec<(&str, &str)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[cfg(unix)]
#[test]
fn a_profile_others_can_read_is_warned_about_once_per_run() {
    use std::os::unix::fs::PermissionsExt;
    let home = TempDir::new("readable-profile");
    let file = home.file("credentials", PROFILES);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    // The region and the keys both come from the profile: it is still read, and warned about, once.
    let out = run_with(&["credentials"], Creds::None, None, &[("TENCENTCLOUD_CREDENTIALS_FILE", &file)]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr.matches("is readable by others").count(), 1, "{}", out.stderr);
    assert!(out.stdout.contains("region: ap-shanghai"), "{}", out.stdout);
}
