"""The three builders, each turning the settings and the target into steps (pure): kaniko's executor,
docker (build, tag, push) and buildx (one build that pushes), what each refuses, the labels they all
write, BuildKit's configuration and what a buildx build reports; and the Docker engine they build
with: the plugin's own dockerd (its options, launch, readiness, stop) and when it is launched."""
