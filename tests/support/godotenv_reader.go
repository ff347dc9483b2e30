// Reads a dotenv file with github.com/joho/godotenv, the library the Drone and Harness runners read
// DRONE_OUTPUT with, and prints what it read as one JSON object; an error is printed and exits 1.
// Built by tests/support/godotenv.py against Debian's golang-github-joho-godotenv-dev.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/joho/godotenv"
)

func main() {
	values, err := godotenv.Read(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := json.Marshal(values)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
