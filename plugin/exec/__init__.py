"""Steps and plans as data (argv lists, never a shell string), the one module that starts processes
(``runner``), the process tree of a step, and the run directory a run keeps its files in."""
