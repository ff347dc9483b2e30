"""The environment read into one typed ``Settings`` model: its field sets, value types and flag
mapping, the anchors' per-builder rules, the checks that involve more than one setting, the builder
versions each setting needs, the registry-host grammar, and the settings reference and ``--help``
rendered from the model."""
