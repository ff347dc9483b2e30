"""The run, one phase after another: what is decided before any AWS call (the tags, the target, every
local input checked) and the plan document that ``plan`` prints; prepare (the ECR work handed to the
AWS worker, the Docker config); build (kaniko, docker, buildx); sign; the outputs, written all together;
and the summary line."""
