"""What the CI runner tells the step, and nothing of the plugin's settings: its variables (the CI
context), the checkout's HEAD commit, and docker/metadata-action's tag rules evaluated on its event
and ref. Pure: no processes, no network."""
