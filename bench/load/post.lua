-- wrk script: POST the JSON body held in the file named by the first script argument
-- (wrk ... URL -- body.json), and print one parseable line with counts and latency percentiles.

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
   local file = assert(io.open(args[1], "rb"))
   wrk.body = file:read("*a")
   file:close()
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %.0f, "errors": {"connect": %d, "read": %d, '
         .. '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %.0f, "p90": %.0f, '
         .. '"p99": %.0f, "max": %.0f, "mean": %.1f}}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean
   ))
end
