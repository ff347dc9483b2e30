#!/bin/sh
# The plugin image's entrypoint: hand PID 1 to the plugin (it forwards signals to its builders).
exec /opt/plugin/bin/python -m plugin "$@"
