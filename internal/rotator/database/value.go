package database

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/rotorhq/rotor/internal/secret"
)

// value is a secret in AWS's database format: {"engine", "host", "port",
// "username", "password", "dbname"} and, for alternating users, "masterarn".
// Fields rotor does not read are kept as they are.
type value struct {
	fields   map[string]json.RawMessage
	Engine   string
	Host     string
	Port     int
	Username string
	Password string
	DBName   string
	Master   string // masterarn
}

func parseValue(v secret.Value) (*value, error) {
	out := &value{fields: map[string]json.RawMessage{}}
	if err := json.Unmarshal(v.Bytes(), &out.fields); err != nil {
		return nil, fmt.Errorf("the secret value is not a JSON object in the database format {\"engine\",\"host\",\"port\",\"username\",\"password\",\"dbname\"} (its text is not shown)")
	}
	str := func(name string) (string, error) {
		raw, ok := out.fields[name]
		if !ok || string(raw) == "null" {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("the secret's field %q is not a string", name)
		}
		return s, nil
	}
	var err error
	for name, dst := range map[string]*string{"engine": &out.Engine, "host": &out.Host, "username": &out.Username, "password": &out.Password, "dbname": &out.DBName, "masterarn": &out.Master} {
		if *dst, err = str(name); err != nil {
			return nil, err
		}
	}
	if raw, ok := out.fields["port"]; ok && string(raw) != "null" {
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if d.Decode(&n) != nil {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return nil, fmt.Errorf("the secret's field \"port\" is neither a number nor a string")
			}
			n = json.Number(s)
		}
		p, err := strconv.Atoi(n.String())
		if err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("the secret's field \"port\" is not a TCP port")
		}
		out.Port = p
	}
	return out, nil
}

// with returns the value with username and password replaced, every other
// field kept.
func (v *value) with(username, password string) (secret.Value, error) {
	m := make(map[string]json.RawMessage, len(v.fields)+2)
	for k, f := range v.fields {
		m[k] = f
	}
	u, _ := json.Marshal(username)
	p, _ := json.Marshal(password)
	m["username"], m["password"] = u, p
	b, err := json.Marshal(m)
	if err != nil {
		return secret.Value{}, err
	}
	clear(p)
	return secret.New(string(b)), nil
}
