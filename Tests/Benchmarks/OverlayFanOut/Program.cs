using System.Diagnostics;
using System.Globalization;
using System.Net;
using CaptionSidecar.Benchmarks.FeedLoad;
using CaptionSidecar.Benchmarks.OverlayFanOut;

// Usage: OverlayFanOut serve <port>                       (the .NET server, started by the run below)
//        OverlayFanOut memory <clients>                   (the .NET server's memory per idle connected client)
//        OverlayFanOut run <ws-node-dir> [events=100] [interval-ms=50] [clients=10,100,1000] [reader-threads=1]
if (args is ["serve", var servePort])
{
    await BenchServer.RunAsync(int.Parse(servePort, CultureInfo.InvariantCulture));
    return 0;
}

if (args is ["memory", var memoryClients])
{
    return await MeasureMemoryAsync(int.Parse(memoryClients, CultureInfo.InvariantCulture));
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

// Starts the .NET server alone, connects <clients> idle feed clients and reports what each costs the server: its managed
// heap (after a full collection) and its working set, before and after, divided by the client count.
static async Task<int> MeasureMemoryAsync(int clients)
{
    const int Port = 4483;
    using var server = StartServer(SelfCommand(), ["serve", Port.ToString(CultureInfo.InvariantCulture)]);
    try
    {
        await WaitHealthyAsync(Port);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}") };
        async Task<(long Heap, int Clients, long WorkingSet)> ReadAsync()
        {
            var parts = (await http.GetStringAsync(new Uri("/bench/memory", UriKind.Relative))).Split(' ');
            return (long.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
        }

        // A first round of clients connects and leaves so that Kestrel's and the feed's first-use allocations (pools,
        // JIT, statics) are in the baseline, not in the figure per client.
        await ConnectAndWaitAsync(Math.Min(clients, 100), "warm");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var before = await ReadAsync();
        var readers = await ConnectAndWaitAsync(clients, "mem");
        var after = await ReadAsync();
        // Idle clients cost no CPU (a reader spinning on its connection would show here).
        var cpuBefore = CpuTime(server);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var idleCpu = CpuTime(server) - cpuBefore;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"{clients} idle clients: managed heap {before.Heap / 1048576.0:F1} -> {after.Heap / 1048576.0:F1} MiB, {(after.Heap - before.Heap) / (double)clients:F0} bytes per client; working set {before.WorkingSet / 1048576.0:F1} -> {after.WorkingSet / 1048576.0:F1} MiB, {(after.WorkingSet - before.WorkingSet) / (double)clients:F0} bytes per client; server CPU over 3 s idle {idleCpu.TotalMilliseconds:F0} ms"));
        GC.KeepAlive(readers);
        return 0;

        async Task<FeedReaders> ConnectAndWaitAsync(int count, string language)
        {
            var connecting = new FeedReaders(new IPEndPoint(IPAddress.Loopback, Port), $"/ws/captions?lang={language}", count, 1, lastSequence: 1);
            await connecting.StartAsync();
            while ((await ReadAsync()).Clients < count)
            {
                await Task.Delay(100);
            }

            if (language == "warm")
            {
                // Leaves: one update ends every warm-up reader (lastSequence 1), which then closes its socket.
                using var publish = new HttpClient { BaseAddress = http.BaseAddress };
                var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
                    new CaptionSidecar.Overlay.OverlayCaption(language, 1, [], false, DateTimeOffset.UnixEpoch),
                    CaptionSidecar.Overlay.OverlayJsonContext.Default.OverlayCaption);
                using var content = new ByteArrayContent(body);
                using var response = await publish.PostAsync(new Uri("/bench/publish", UriKind.Relative), content);
                await connecting.FinishAsync(TimeSpan.FromSeconds(30));
                while ((await ReadAsync()).Clients > 0)
                {
                    await Task.Delay(100);
                }
            }

            return connecting;
        }
    }
    finally
    {
        server.Kill(entireProcessTree: true);
    }
}

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
