using System.Diagnostics;
using System.Globalization;
using System.Net;
using CaptionSidecar.Benchmarks.FeedLoad;
using CaptionSidecar.Benchmarks.OverlayFanOut;

// Usage: OverlayFanOut serve <port>                       (the .NET server, started by the run below)
//        OverlayFanOut run <ws-node-dir> [events=100] [interval-ms=50] [clients=10,100,1000] [reader-threads=1]
if (args is ["serve", var servePort])
{
    await BenchServer.RunAsync(int.Parse(servePort, CultureInfo.InvariantCulture));
    return 0;
}

if (args.Length < 2 || args[0] != "run")
{
    Console.Error.WriteLine("Usage: OverlayFanOut run <ws-node-dir> [events=100] [interval-ms=50] [clients=10,100,1000] [reader-threads=1] | OverlayFanOut serve <port>");
    return 2;
}

var nodeDir = args[1];
var events = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100;
var interval = TimeSpan.FromMilliseconds(args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 50);
int[] clientCounts = args.Length > 4 ? [.. args[4].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))] : [10, 100, 1000];
var readerThreads = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 1;
const int DotnetPort = 4481;
const int NodePort = 4482;

using var dotnet = StartServer(SelfCommand(), ["serve", DotnetPort.ToString(CultureInfo.InvariantCulture)]);
using var node = StartServer(("node", []), [Path.Combine(nodeDir, "server.mjs"), NodePort.ToString(CultureInfo.InvariantCulture)]);
var results = new List<FanOutResult>();
try
{
    await ServerProbe.WaitHealthyAsync(DotnetPort);
    await ServerProbe.WaitHealthyAsync(NodePort);
    var nodeVersion = (await ReadOutputAsync("node", "--version")).Trim();
    var dotnetServer = new LoadGenerator(new IPEndPoint(IPAddress.Loopback, DotnetPort), "/bench/publish", readerThreads, () => CpuTime(dotnet));
    var nodeServer = new LoadGenerator(new IPEndPoint(IPAddress.Loopback, NodePort), "/publish", readerThreads, () => CpuTime(node));
    // The sidecar runs for hours, so both servers are measured warm: an unrecorded round per client count (100 events,
    // one every 10 ms), then a wait until the server is idle, so .NET's background tier-1 JIT (or V8's optimiser)
    // has finished instead of competing with the measured run for the two cores.
    foreach (var clients in clientCounts)
    {
        await dotnetServer.RunAsync("warm-up", $"warm{clients}", clients, 100, TimeSpan.FromMilliseconds(10), CancellationToken.None);
        await nodeServer.RunAsync("warm-up", $"warm{clients}", clients, 100, TimeSpan.FromMilliseconds(10), CancellationToken.None);
    }

    Console.Error.WriteLine($".NET server settled after {await ServerProbe.SettleAsync(() => CpuTime(dotnet))}; node after {await ServerProbe.SettleAsync(() => CpuTime(node))}");
    foreach (var clients in clientCounts)
    {
        results.Add(await dotnetServer.RunAsync($"CaptionSidecar.Overlay (.NET {Environment.Version})", $"bench{clients}", clients, events, interval, CancellationToken.None));
        Console.Error.WriteLine(results[^1]);
        results.Add(await nodeServer.RunAsync($"ws 8.23.0 (node {nodeVersion})", $"bench{clients}", clients, events, interval, CancellationToken.None));
        Console.Error.WriteLine(results[^1]);
    }
}
finally
{
    dotnet.Kill(entireProcessTree: true);
    node.Kill(entireProcessTree: true);
}

var inv = CultureInfo.InvariantCulture;
Console.WriteLine($"After an unrecorded warm-up round per server and client count (120 events, one every 10 ms) and a wait until each server idles: {events} events per run after 20 warm-up events, one every {interval.TotalMilliseconds} ms; latency from the POST of a caption event to its receipt by each client (epoll load generator, {readerThreads} reader thread(s)).");
Console.WriteLine();
Console.WriteLine("| clients | server | receipts | missing | out of order | p50 (ms) | p99 (ms) | max (ms) | server CPU per event (ms) |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
foreach (var r in results)
{
    Console.WriteLine(string.Create(inv, $"| {r.Clients} | {r.Server} | {r.Receipts} | {r.Missing} | {r.OutOfOrder} | {r.P50Ms:F3} | {r.P99Ms:F3} | {r.MaxMs:F3} | {r.CpuMsPerEvent:F2} |"));
}

Console.WriteLine();
Console.WriteLine("| clients | p50 ratio .NET / node | p99 ratio .NET / node |");
Console.WriteLine("|---|---|---|");
for (var i = 0; i + 1 < results.Count; i += 2)
{
    Console.WriteLine(string.Create(inv, $"| {results[i].Clients} | {results[i].P50Ms / results[i + 1].P50Ms:F2} | {results[i].P99Ms / results[i + 1].P99Ms:F2} |"));
}

return 0;

static (string File, string[] Prefix) SelfCommand()
{
    var process = Environment.ProcessPath!;
    return Path.GetFileNameWithoutExtension(process) == "dotnet"
        ? (process, [typeof(LoadGenerator).Assembly.Location])
        : (process, []);
}

static TimeSpan CpuTime(Process process)
{
    process.Refresh();
    return process.TotalProcessorTime;
}

static Process StartServer((string File, string[] Prefix) command, string[] arguments)
{
    var psi = new ProcessStartInfo(command.File) { UseShellExecute = false };
    foreach (var a in command.Prefix.Concat(arguments))
    {
        psi.ArgumentList.Add(a);
    }

    return Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {command.File}");
}

static async Task<string> ReadOutputAsync(string file, string argument)
{
    using var process = Process.Start(new ProcessStartInfo(file, argument) { RedirectStandardOutput = true, UseShellExecute = false })!;
    var output = await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    return output;
}
