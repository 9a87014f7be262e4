// layerlab-authz: the sandbox engine's authorization plugin (Docker's AuthZ plugin
// protocol over a unix socket). dockerd asks it about every API request before acting;
// policy.go decides. dockerd treats a plugin it cannot reach as a refusal, so if this
// process dies, the engine refuses everything until it is back (start-dockerd.sh restarts it).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// The fields of dockerd's authorization request this plugin reads.
type authzRequest struct {
	RequestMethod  string
	RequestURI     string
	RequestBody    []byte
	RequestHeaders map[string]string
}

type authzResponse struct {
	Allow bool
	Msg   string `json:",omitempty"`
	Err   string `json:",omitempty"`
}

// sandboxEnvironment looks things up in the sandbox itself: its file system (the same
// mount namespace as dockerd's) and its engine.
type sandboxEnvironment struct {
	engine *http.Client
}

func (sandboxEnvironment) ResolvePath(p string) (string, error) {
	existing, rest := p, ""
	for {
		resolved, err := filepath.EvalSymlinks(existing)
		if err == nil {
			return path.Join(resolved, rest), nil
		}
		if !errors.Is(err, os.ErrNotExist) || existing == "/" {
			return "", err
		}
		rest = path.Join(path.Base(existing), rest)
		existing = path.Dir(existing)
	}
}

func (env sandboxEnvironment) ContainerHostConfig(id string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, "GET", "http://engine/containers/"+url.PathEscape(id)+"/json", nil)
	if err != nil {
		return nil, err
	}
	response, err := env.engine.Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	if response.StatusCode == http.StatusNotFound {
		return nil, errNoSuchContainer
	}
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the engine answered %s", response.Status)
	}
	var container struct{ HostConfig json.RawMessage }
	if err := json.NewDecoder(response.Body).Decode(&container); err != nil {
		return nil, err
	}
	return container.HostConfig, nil
}

func main() {
	// The same binary is the engine's default runtime when called by that name (runtime.go).
	if filepath.Base(os.Args[0]) == "layerlab-runc" {
		runAsRuntime(os.Args[1:])
		return
	}
	socketFlag := flag.String("socket", "/run/docker/plugins/layerlab-authz.sock", "where dockerd looks for the plugin")
	engineFlag := flag.String("engine", "/var/run/docker.sock", "the engine's socket, to read a container's stored settings")
	flag.Parse()
	socketPath, engineSocket := *socketFlag, *engineFlag
	env := sandboxEnvironment{engine: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", engineSocket)
		},
	}}}

	mux := http.NewServeMux()
	mux.HandleFunc("/Plugin.Activate", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string][]string{"Implements": {"authz"}})
	})
	mux.HandleFunc("/AuthZPlugin.AuthZReq", func(w http.ResponseWriter, r *http.Request) {
		var request authzRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&request); err != nil {
			writeJSON(w, authzResponse{Err: "layerlab-authz could not read the request: " + err.Error()})
			return
		}
		decision := Decide(Request{Method: request.RequestMethod, URI: request.RequestURI, Body: request.RequestBody, ContentType: headerValue(request.RequestHeaders, "Content-Type")}, env)
		if !decision.Allow {
			log.Printf("refused %s %s: %s", request.RequestMethod, truncate(request.RequestURI), decision.Msg)
		}
		writeJSON(w, authzResponse{Allow: decision.Allow, Msg: decision.Msg})
	})
	// Responses are never filtered: what a container may see was decided on the way in.
	mux.HandleFunc("/AuthZPlugin.AuthZRes", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, authzResponse{Allow: true})
	})

	if err := os.MkdirAll(path.Dir(socketPath), 0o700); err != nil {
		log.Fatal(err)
	}
	_ = os.Remove(socketPath)
	listener, err := net.Listen("unix", socketPath)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.Chmod(socketPath, 0o600); err != nil {
		log.Fatal(err)
	}
	log.Printf("layerlab-authz listening on %s", socketPath)
	log.Fatal((&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(listener))
}

func writeJSON(w http.ResponseWriter, value any) {
	w.Header().Set("Content-Type", "application/vnd.docker.plugins.v1+json")
	_ = json.NewEncoder(w).Encode(value)
}

// headerValue reads a header whatever the case its name was sent in.
func headerValue(headers map[string]string, name string) string {
	for key, value := range headers {
		if strings.EqualFold(key, name) {
			return value
		}
	}
	return ""
}
