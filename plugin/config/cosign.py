"""The cosign settings (PLUGIN_COSIGN_*) as settings: whether signing is on, PLUGIN_COSIGN_PARAMS'
words and the flags refused among them, and the settings that do nothing as set. Checked when the
settings are loaded and with the local inputs; the signing itself is ``plugin.run.signing``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugin.core.errors import Problem

if TYPE_CHECKING:
    from plugin.config.settings import Settings

KEY_VARIABLE = "PLUGIN_COSIGN_PRIVATE_KEY"
PASSWORD_VARIABLE = "PLUGIN_COSIGN_PASSWORD"  # noqa: S105 - a variable's name
PARAMS_VARIABLE = "PLUGIN_COSIGN_PARAMS"
# PLUGIN_COSIGN_PARAMS flags refused by name, and why.
_KEYLESS = (
    "keyless signing needs a Fulcio CA, a Rekor log and an OIDC identity, which this plugin does not offer"
)
REFUSED_PARAMS: dict[str, str] = {
    "--oidc": _KEYLESS,
    "--identity-token": _KEYLESS,
    "--fulcio": _KEYLESS,
    "--issue-certificate": _KEYLESS,
    "--key": "the key is PLUGIN_COSIGN_PRIVATE_KEY (passed as --key env://COSIGN_PRIVATE_KEY)",
    "--registry-username": "registry logins come from the run's Docker config, never the command line",
    "--registry-password": "registry logins come from the run's Docker config, never the command line",
    "--registry-token": "registry logins come from the run's Docker config, never the command line",
}


def enabled(settings: Settings) -> bool:
    return settings.cosign_private_key is not None and bool(settings.cosign_private_key.get_secret_value())


def params(settings: Settings) -> list[str]:
    """PLUGIN_COSIGN_PARAMS split on whitespace, as plugins/ecr did (strings.Fields)."""
    return (settings.cosign_params or "").split()


def param_problems(settings: Settings) -> list[Problem]:
    """Flags of PLUGIN_COSIGN_PARAMS the plugin refuses (keyless, --key, registry credentials)."""
    problems = []
    for word in params(settings):
        name = word.split("=", 1)[0]
        for flag, why in REFUSED_PARAMS.items():
            if name == flag or (flag in ("--oidc", "--fulcio") and name.startswith(flag)):
                shown = name if "password" in flag or "token" in flag else word
                problems.append(Problem(PARAMS_VARIABLE, shown, f"no {name}: {why}"))
                break
    return problems


def setting_warnings(settings: Settings) -> list[tuple[str, dict[str, str]]]:
    """Cosign settings that do nothing in this run: each is named."""
    out: list[tuple[str, dict[str, str]]] = []
    if not enabled(settings):
        for variable, value in (
            (PASSWORD_VARIABLE, settings.cosign_password),
            (PARAMS_VARIABLE, settings.cosign_params),
        ):
            if value:
                out.append(
                    ("sign.setting_unused", {"variable": variable, "hint": f"only with {KEY_VARIABLE}"})
                )
    elif settings.no_push:
        hint = "nothing is pushed (PLUGIN_NO_PUSH), so nothing is signed"
        out.append(("sign.setting_unused", {"variable": KEY_VARIABLE, "hint": hint}))
    return out
