"""The settings' fields in groups (build, target and outputs, AWS, kaniko, the Docker engine, docker,
buildx, supply chain, the plugin): ``plugin.config.settings.Settings`` is all of them."""
