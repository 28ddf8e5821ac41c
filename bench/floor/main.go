// The floor of the architecture: a no-op ext_proc server in Go (grpc-go), the transport the
// Go peers use. It answers request headers and response headers with empty CommonResponses
// and anything else Envoy might send with the matching empty answer, so Envoy's ext_proc
// filter and one gRPC stream per request is all a request costs on top of plain Envoy.
//
//	go build -o floor . && ./floor -addr 127.0.0.1:50061
package main

import (
	"errors"
	"flag"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	extproc "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

type noop struct {
	extproc.UnimplementedExternalProcessorServer
	// The request headers' answer: empty, or (-route) the headers that pick Envoy's clusters.
	requestHeaders *extproc.CommonResponse
	// -body-length: a response's headers are answered once its body has ended, naming its length
	// in this header, as the gateway's ext-proc does for a pipelined response (Envoy turns it back
	// into content-length). Empty: every message is answered at once.
	bodyLength string
}

var empty = &extproc.CommonResponse{}

// headerFlags collects repeated -route name=value flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ",") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// routing sets the given headers and has Envoy match the route again: what the gateway's own
// ext-proc does to route a request, without any of its work.
func routing(headers headerFlags) *extproc.CommonResponse {
	if len(headers) == 0 {
		return empty
	}
	set := make([]*corev3.HeaderValueOption, 0, len(headers))
	for _, h := range headers {
		name, value, _ := strings.Cut(h, "=")
		set = append(set, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: name, RawValue: []byte(value)}})
	}
	return &extproc.CommonResponse{HeaderMutation: &extproc.HeaderMutation{SetHeaders: set}, ClearRouteCache: true}
}

// withLength is the response headers' answer naming the body's length.
func (n noop) withLength(length int) *extproc.ProcessingResponse {
	set := []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: n.bodyLength, RawValue: []byte(strconv.Itoa(length))}}}
	common := &extproc.CommonResponse{HeaderMutation: &extproc.HeaderMutation{SetHeaders: set}}
	return &extproc.ProcessingResponse{Response: &extproc.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extproc.HeadersResponse{Response: common}}}
}

func (n noop) Process(stream extproc.ExternalProcessor_ProcessServer) error {
	// A held response: its headers' answer waits for the body's end, as do its chunks'.
	holding, heldBytes, heldChunks := false, 0, 0
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
			return nil
		}
		if err != nil {
			return err
		}
		if h, ok := req.Request.(*extproc.ProcessingRequest_ResponseHeaders); ok && n.bodyLength != "" && !h.ResponseHeaders.EndOfStream {
			holding = true
			continue
		}
		if b, ok := req.Request.(*extproc.ProcessingRequest_ResponseBody); ok && holding {
			heldBytes += len(b.ResponseBody.Body)
			heldChunks++
			if !b.ResponseBody.EndOfStream {
				continue
			}
			if err := stream.Send(n.withLength(heldBytes)); err != nil {
				return err
			}
			for ; heldChunks > 0; heldChunks-- {
				if err := stream.Send(&extproc.ProcessingResponse{Response: &extproc.ProcessingResponse_ResponseBody{ResponseBody: &extproc.BodyResponse{Response: empty}}}); err != nil {
					return err
				}
			}
			holding = false
			continue
		}
		resp := &extproc.ProcessingResponse{}
		switch req.Request.(type) {
		case *extproc.ProcessingRequest_RequestHeaders:
			resp.Response = &extproc.ProcessingResponse_RequestHeaders{RequestHeaders: &extproc.HeadersResponse{Response: n.requestHeaders}}
		case *extproc.ProcessingRequest_ResponseHeaders:
			resp.Response = &extproc.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extproc.HeadersResponse{Response: empty}}
		case *extproc.ProcessingRequest_RequestBody:
			resp.Response = &extproc.ProcessingResponse_RequestBody{RequestBody: &extproc.BodyResponse{Response: empty}}
		case *extproc.ProcessingRequest_ResponseBody:
			resp.Response = &extproc.ProcessingResponse_ResponseBody{ResponseBody: &extproc.BodyResponse{Response: empty}}
		case *extproc.ProcessingRequest_RequestTrailers:
			resp.Response = &extproc.ProcessingResponse_RequestTrailers{RequestTrailers: &extproc.TrailersResponse{}}
		case *extproc.ProcessingRequest_ResponseTrailers:
			resp.Response = &extproc.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extproc.TrailersResponse{}}
		default:
			return status.Error(codes.InvalidArgument, "unknown ext_proc request")
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50061", "listen address")
	var route headerFlags
	flag.Var(&route, "route", "name=value: a header the request headers' answer sets, with the route recomputed (repeatable)")
	bodyLength := flag.String("body-length", "", "header name: answer a response's headers once its body has ended, naming its length (pipelined bodies)")
	flag.Parse()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	extproc.RegisterExternalProcessorServer(srv, noop{requestHeaders: routing(route), bodyLength: *bodyLength})
	hs := health.NewServer()
	// Envoy's health check of the gateway's ext_proc cluster names the service (envoy/render.ts).
	hs.SetServingStatus("envoy.service.ext_proc.v3.ExternalProcessor", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		srv.Stop()
	}()
	log.Printf("floor ext_proc listening on %s", lis.Addr())
	if err := srv.Serve(lis); err != nil {
		log.Fatal(err)
	}
}
