// Package wire holds Eureka's wire formats: the InstanceInfo, Application and
// Applications documents in JSON (as the server's legacy Jackson codec writes
// them) and XML (as its XStream codec writes them), and tolerant decoders for
// what real clients send (Spring Cloud Netflix, the Netflix Java client,
// hudl/fargo). It knows nothing about the registry model; the eureka package
// maps between the two.
package wire
