"""The sentence a person reads for each log event (the event names stay as ids in JSON and in brackets).

A template names the event's fields in braces; the fields it names are not repeated as key=value
details. ``[...]`` is an optional part, left out when a field in it is missing or None. An event
without a sentence here is shown by its name; ``tests/unit/test_catalog.py`` lists the missing ones
(``make catalog-missing`` prints skeletons to paste).
"""

from __future__ import annotations

SENTENCES: dict[str, str] = {
    # settings and tags
    "settings.unknown_variable": "Unknown variable {variable}[; did you mean {closest}?]",
    "settings.ignored_for_builder": "Ignoring {variable} with the {builder} builder: {reason}",
    "settings.honoured_for_builder": "{variable} takes effect with the {builder} builder: {note}",
    "settings.junk_boolean_ignored": "Ignoring {variable}={value}, which is not a boolean: {reason}",
    "settings.account_not_an_account_id": "{variable} does not hold a 12-digit account id; {hint}",
    "settings.base_credentials_without_registry": "{hint}",
    "settings.auto_tag_replaces_tags": "{hint}",
    "settings.expand_tag_ignored": "{hint}",
    "settings.oidc_without_role": "{hint}",
    "settings.external_id_without_role": "{hint}",
    "settings.squash_needs_experimental": "{hint}",
    "settings.not_used": "{variable} is {hint}",
    "settings.kaniko_log_format_unused": "{variable} does nothing with this builder: {hint}",
    "tags.adjusted": "Tag changed: {note}",
    "tags.resolved": "The tags of this run, with what made each",
    "tags.rule_skipped": "No tag from {rule}; {reason}",
    "buildx.setting_not_used": "{variable} does nothing with the buildx builder: {hint}",
    # AWS and ECR
    "aws.assumed_role": "Assumed role {role}[ as {assumed}]",
    "aws.retry": "AWS {operation} failed[ ({code})]; retrying[ in {wait}s]",
    "aws.oidc_token_ignored": "The OIDC token is not used: {reason}",
    "aws.external_id_ignored": "The external id is not used: {reason}",
    "ecr.token": "Got an ECR login for {endpoint}",
    "ecr.registry_mismatch": "The {field} given differs from the one in {registry}; {reason}",
    "ecr.repository.created": "Created repository {repository}",
    "ecr.repository.exists": "Repository {repository} already exists[ ({reason})]",
    "ecr.public_unsupported": "ECR Public has no {settings}; left out",
    "ecr.encryption.unchanged": "The encryption of {repository} cannot change after creation; left as it is",
    "ecr.policies": "Applied {applied} to {repository}",
    "ecr.tags": "Looked up the tags in {repository}",
    "ecr.describe_denied": "Not allowed to describe {repository}; {hint}",
    "ecr.immutable_all_exist": "{hint}",
    "ecr.pull_login": "Pulls from {registry} use its ECR login",
    "ecr.pull_login_failed": "No ECR login for {registry}, so pulls from it are anonymous: {reason}",
    "ecr.pull_login_skipped": "No ECR logins for pulling base images: {reason}",
    "trust.ca_added": "Trusting the CA in {ca} for this run",
    "dockerconfig.creds_store_dropped": "Left credsStore out of this run's Docker config: {reason}",
    "dockerconfig.cred_helper_dropped": "Left the credential helper for {registry} out of this run's "
    "Docker config",
    # builders
    "dockerd.ready": "dockerd answers, {seconds}s after it was started",
    "dockerd.stopped": "dockerd stopped (exit {status})",
    "dockerd.umount_failed": "Could not unmount {mount}: {error}",
    "dockerd.run_dir_moved": "dockerd runs in {run_dir} instead of {preferred} ({reason})",
    "dockerd.discarded": "dockerd ended unused ({reason}); what it wrote in {data_root} is removed",
    "docker.prune_skipped": "No docker system prune: {reason}",
    "kaniko.version": "The kaniko executor is {version}",
    "kaniko.version_unknown": "The kaniko executor's version is unknown, so the settings {unchecked} "
    "were not checked against it; {hint}",
    "step.failed_ignored": "Step {step} failed (exit {status}); it is optional, the run goes on",
    "run.exit": "Step {step} exited with {status}",
    "run.leftovers_killed": "Step {step} left processes running; killed them",
    "push.retry": "Pushing {image} failed on a registry error; retrying in {wait}s",
    "push.tarball": "Pushed {image}",
    "push.tag_already_there": "Tag {tag} already holds this image in the immutable repository",
    "buildx.metadata_digest_differs": "buildx's metadata file and the registry disagree on the digest; "
    "the registry's is used",
    "buildx.buildkitd_config": "Wrote the builder's buildkitd.toml to {path}"
    "[, with {user_config} merged over it]",
    "buildx.cache": "{cached} of {steps} Dockerfile steps came from the cache",
    "buildx.pushed": "The registry serves {digest} ({media_type}) for the first tag",
    "build.skipped": "Nothing to build: {reason}",
    # signing, labels, reproducible builds
    "sign.key": "Signing with the cosign key whose public key is {fingerprint}",
    "sign.signed": "Signed {image}; the signature is {signature}",
    "sign.signature_not_read": "The signature manifest's digest could not be read: {reason}",
    "sign.setting_unused": "{variable} does nothing in this run: {hint}",
    "reproducible.source_date": "The source date is {date} (SOURCE_DATE_EPOCH={epoch}, from {origin})",
    "reproducible.no_source_date": "No source date was found (no PLUGIN_SOURCE_DATE_EPOCH, "
    "SOURCE_DATE_EPOCH or .git); {hint}",
    "reproducible.attestations_vary": "{variable}: an attestation records when the build ran, so with "
    "PLUGIN_REPRODUCIBLE each platform's manifest digest repeats but the index's does not",
    "outputs.written": "Wrote the outputs",
    "outputs.drone_output_unreadable_lines": "DRONE_OUTPUT has lines python-dotenv cannot read "
    "(line {lines}); {hint}",
    "outputs.drone_output_values_unreadable": "After the merge, DRONE_OUTPUT does not read back as "
    "written: {keys}",
    "outputs.value_escaped": "DRONE_OUTPUT's {key} is written with godotenv's escapes; {hint}",
    "outputs.restore_failed": "Could not put {file} back as it was: {error}",
    # the end of a run
    "summary.pushed": "Pushed {repository} to {registry}",
    "summary.built": "Built {repository} without pushing it",
    "summary.skipped": "Skipped {repository}: {reason}",
    "plugin.failed": "{error}",
    "plugin.bug": "Unexpected error: this is a bug in the plugin, please report it with this log",
}
