// The pod sandbox process of the test node's pause image: it holds the pod's namespaces,
// reaps orphans (it is PID 1 when a pod shares its process namespace) and exits on SIGTERM/SIGINT.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT)
	for sig := range ch {
		if sig != syscall.SIGCHLD {
			return
		}
		var status syscall.WaitStatus
		for {
			if pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
