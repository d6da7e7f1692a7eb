using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionSidecar.ObsBridge;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// Measures SetInputSettings round trips (sequential, one request in flight) from ObsBridge's ObsClient and from
// obs-websocket-js (node Tests/Benchmarks/obs-js/bench.mjs) against the same OBS, in alternating rounds, and prints
// a Markdown table with median, p99 and the ratio.
//
//   dotnet run -c Release --project Tests/Benchmarks/ObsRoundTrip -- <ws-url> <password> [count-per-round] [rounds]
if (args.Length < 2)
{
    await Console.Error.WriteLineAsync("usage: ObsRoundTrip <ws-url> <password> [count-per-round=200] [rounds=15]");
    return 2;
}

var url = new Uri(args[0]);
var password = args[1];
var count = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;
var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 15;
const int Warmup = 100;
const string Source = "Benchmark (rtt)";
var jsDir = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "obs-js"));
if (!File.Exists(Path.Combine(jsDir, "bench.mjs")))
{
    jsDir = Path.GetFullPath(Path.Combine("Tests", "Benchmarks", "obs-js"));
}

await using var client = new ObsClient(Options.Create(new ObsClientOptions { Url = url, Password = password }),
    NullLogger<ObsClient>.Instance, TimeProvider.System);
client.Start();
await client.WaitUntilConnectedAsync().WaitAsync(TimeSpan.FromSeconds(10));
await EnsureSourceAsync();

var psi = new ProcessStartInfo("node")
{
    WorkingDirectory = jsDir,
    RedirectStandardInput = true,
    RedirectStandardOutput = true,
    UseShellExecute = false,
};
foreach (var a in new[] { "bench.mjs", url.ToString(), password, Source, Warmup.ToString(CultureInfo.InvariantCulture) })
{
    psi.ArgumentList.Add(a);
}

using var node = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
var dotnetSamples = new List<double>();
var jsSamples = new List<double>();
string? jsName = null;
for (var round = 0; round < rounds; round++)
{
    // Which client goes first alternates too, so neither always runs right after the other's burst.
    if (round % 2 == 1)
    {
        (jsName, var first) = await MeasureJsAsync();
        jsSamples.AddRange(first);
    }

    dotnetSamples.AddRange(await MeasureDotnetAsync());
    if (round % 2 == 0)
    {
        (jsName, var second) = await MeasureJsAsync();
        jsSamples.AddRange(second);
    }
}

node.StandardInput.Close();
await node.WaitForExitAsync();
await client.SendRequestAsync("RemoveInput", new JsonObject { ["inputName"] = Source });
var version = (await client.SendRequestAsync("GetVersion")).EnsureSuccess().Data;
var (dMedian, dP99, dMean) = Stats(dotnetSamples);
var (jMedian, jP99, jMean) = Stats(jsSamples);
Console.WriteLine($"OBS {version.GetProperty("obsVersion").GetString()}, obs-websocket {version.GetProperty("obsWebSocketVersion").GetString()}, " +
    $"{rounds} alternating rounds of {count} sequential SetInputSettings (+{Warmup} warm-up each), {Environment.ProcessorCount} cores, " +
    $"DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS={Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") ?? "unset"}");
Console.WriteLine();
Console.WriteLine("| client | requests | median (ms) | p99 (ms) | mean (ms) |");
Console.WriteLine("|---|---|---|---|---|");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| ObsBridge ObsClient (.NET {Environment.Version}) | {dotnetSamples.Count} | {dMedian:0.000} | {dP99:0.000} | {dMean:0.000} |"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {jsName} | {jsSamples.Count} | {jMedian:0.000} | {jP99:0.000} | {jMean:0.000} |"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| ratio ObsBridge / obs-websocket-js | | {dMedian / jMedian:0.00} | {dP99 / jP99:0.00} | {dMean / jMean:0.00} |"));
return 0;

async Task EnsureSourceAsync()
{
    var exists = await client.SendRequestAsync("GetInputSettings", new JsonObject { ["inputName"] = Source });
    if (exists.IsSuccess)
    {
        return;
    }

    var scene = (await client.SendRequestAsync("GetCurrentProgramScene")).EnsureSuccess().Data
        .GetProperty("currentProgramSceneName").GetString();
    (await client.SendRequestAsync("CreateInput", new JsonObject
    {
        ["sceneName"] = scene,
        ["inputName"] = Source,
        ["inputKind"] = "text_ft2_source_v2",
        ["inputSettings"] = new JsonObject { ["text"] = "benchmark" },
    })).EnsureSuccess();
}

async Task<List<double>> MeasureDotnetAsync()
{
    var samples = new List<double>(count);
    for (var i = 0; i < Warmup + count; i++)
    {
        // The request data is built inside the measured span, like the object literal passed to obs.call in bench.mjs.
        var start = Stopwatch.GetTimestamp();
        var data = new JsonObject
        {
            ["inputName"] = Source,
            ["inputSettings"] = new JsonObject { ["text"] = "dotnet " + i.ToString(CultureInfo.InvariantCulture) },
            ["overlay"] = true,
        };
        (await client.SendRequestAsync("SetInputSettings", data)).EnsureSuccess();
        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (i >= Warmup)
        {
            samples.Add(ms);
        }
    }

    return samples;
}

async Task<(string Name, List<double> Samples)> MeasureJsAsync()
{
    // One node process for all rounds, connected once (warm, like the .NET client): a line in = one round out.
    await node.StandardInput.WriteLineAsync(count.ToString(CultureInfo.InvariantCulture));
    await node.StandardInput.FlushAsync();
    var line = await node.StandardOutput.ReadLineAsync()
        ?? throw new InvalidOperationException($"node bench.mjs ended early (run npm ci in {jsDir})");
    using var doc = JsonDocument.Parse(line);
    return (doc.RootElement.GetProperty("client").GetString()!,
        doc.RootElement.GetProperty("samples").EnumerateArray().Select(s => s.GetDouble()).ToList());
}

static (double Median, double P99, double Mean) Stats(List<double> samples)
{
    var sorted = samples.Order().ToArray();
    double Percentile(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    return (Percentile(0.5), Percentile(0.99), sorted.Average());
}
