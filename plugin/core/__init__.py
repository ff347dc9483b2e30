"""The bottom layer: the error tree, logging (with the Redactor, the human format and its sentences),
safe reading of the files that settings name, and dotenv files. It imports nothing else of the plugin."""
