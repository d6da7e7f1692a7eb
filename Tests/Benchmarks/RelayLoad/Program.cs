using System.Globalization;
using System.Text.Json;
using CaptionSidecar.Benchmarks.RelayLoad;

// Usage (Tests/Benchmarks/relay-load.sh runs it):
//   RelayLoad run --nats URL --stream NAME --relay PORT:PID [--relay PORT:PID] --viewers N [--seconds 60] [--warm-up 10]
//                 [--label TEXT] [--nats-pid PID] [--threads 2] [--viewers-per-address 50] --results FILE
//       one measured run; appends one JSON line to FILE
//   RelayLoad table FILE [NOTE]
//       the Markdown table of every run in FILE, with .NET / node ratios for runs of the same shape
var inv = CultureInfo.InvariantCulture;
var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
if (args is ["table", var file, ..])
{
    var results = File.ReadAllLines(file).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<RelayResult>(l, options)!).ToList();
    Console.WriteLine("| relay | relays x viewers | dropped | finals missing / expected | out of order | receipts | p50 (ms) | p99 (ms) | max (ms) | finals p99 (ms) | receipts per viewer per s | relay CPU per update per 1,000 viewers (ms) | relay CPU (cores) | relay RSS before / with (MiB) | memory per viewer (KiB) | nats-server CPU (cores) | generator CPU (cores) | connect (s) | payload (bytes) |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    foreach (var r in results)
    {
        Console.WriteLine(string.Create(inv,
            $"| {r.Label} | {r.Relays} x {r.Viewers / r.Relays} | {r.Dropped} | {r.FinalsMissing} / {r.FinalsExpected} | {r.OutOfOrder} | {r.Receipts} | {r.P50Ms:F1} | {r.P99Ms:F1} | {r.MaxMs:F1} | {r.FinalP99Ms:F1} | {r.ReceiptsPerViewerPerSecond:F2} | {r.RelayCpuMsPer1000Receipts:F2} | {r.RelayCpuCoreShare:F2} | {r.RelayRssBeforeMiB:F0} / {r.RelayRssWithMiB:F0} | {r.RssKiBPerViewer:F1} | {r.NatsCpuCoreShare:F3} | {r.GeneratorCpuCoreShare:F2} | {r.ConnectSeconds:F1} | {r.PayloadBytes:F0} |"));
    }

    var pairs = results.Where(r => r.Label.StartsWith(".NET", StringComparison.Ordinal))
        .Select(d => (Dotnet: d, Node: results.FirstOrDefault(n => !n.Label.StartsWith(".NET", StringComparison.Ordinal) && n.Relays == d.Relays && n.Viewers == d.Viewers)))
        .Where(p => p.Node is not null).ToList();
    if (pairs.Count > 0)
    {
        Console.WriteLine();
        Console.WriteLine("| relays x viewers | p50 .NET / node | p99 .NET / node | CPU per update per 1,000 viewers .NET / node | memory per viewer .NET / node |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (d, n) in pairs)
        {
            Console.WriteLine(string.Create(inv,
                $"| {d.Relays} x {d.Viewers / d.Relays} | {d.P50Ms / n!.P50Ms:F2} | {d.P99Ms / n.P99Ms:F2} | {d.RelayCpuMsPer1000Receipts / n.RelayCpuMsPer1000Receipts:F2} | {d.RssKiBPerViewer / n.RssKiBPerViewer:F2} |"));
        }
    }

    return 0;
}

if (args.Length == 0 || args[0] != "run")
{
    Console.Error.WriteLine("Usage: RelayLoad run --nats URL --stream NAME --relay PORT:PID [--relay PORT:PID] --viewers N [--seconds 60] [--warm-up 10] [--label TEXT] [--nats-pid PID] [--threads 2] [--viewers-per-address 50] --results FILE | RelayLoad table FILE");
    return 2;
}

string? nats = null, resultsFile = null, label = null;
var stream = "bench";
var relays = new List<RelayEndpoint>();
int viewers = 0, threads = 2, perAddress = 50;
int? natsPid = null;
double seconds = 60, warmUp = 10;
for (var i = 1; i + 1 < args.Length; i += 2)
{
    var value = args[i + 1];
    switch (args[i])
    {
        case "--nats": nats = value; break;
        case "--stream": stream = value; break;
        case "--relay":
            var parts = value.Split(':');
            relays.Add(new RelayEndpoint(int.Parse(parts[0], inv), int.Parse(parts[1], inv)));
            break;
        case "--viewers": viewers = int.Parse(value, inv); break;
        case "--seconds": seconds = double.Parse(value, inv); break;
        case "--warm-up": warmUp = double.Parse(value, inv); break;
        case "--label": label = value; break;
        case "--nats-pid": natsPid = int.Parse(value, inv); break;
        case "--threads": threads = int.Parse(value, inv); break;
        case "--viewers-per-address": perAddress = int.Parse(value, inv); break;
        case "--results": resultsFile = value; break;
        default:
            Console.Error.WriteLine($"Unknown option {args[i]}");
            return 2;
    }
}

if (nats is null || resultsFile is null || relays.Count == 0 || viewers <= 0)
{
    Console.Error.WriteLine("run needs --nats, --relay, --viewers and --results");
    return 2;
}

var run = new RelayRun(nats, stream, relays, natsPid, threads, perAddress);
var result = await run.RunAsync(label ?? "relay", viewers, TimeSpan.FromSeconds(warmUp), TimeSpan.FromSeconds(seconds));
Console.Error.WriteLine(result);
await File.AppendAllTextAsync(resultsFile, JsonSerializer.Serialize(result, options) + Environment.NewLine);
return 0;
