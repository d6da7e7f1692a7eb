using System.Diagnostics;
using System.Net;
using CaptionSidecar.Benchmarks.FeedLoad;
using NATS.Client.Core;

namespace CaptionSidecar.Benchmarks.RelayLoad;

/// <summary>One relay under test: where it listens and its process id (for /proc).</summary>
internal sealed record RelayEndpoint(int Port, int Pid);

/// <summary>What one run measured (one JSON line in the results file; the table is made from these).</summary>
internal sealed record RelayResult(
    string Label, int Relays, int Viewers, double Seconds, int Dropped, long OutOfOrder,
    long FinalsExpected, long FinalsMissing, long Receipts, double P50Ms, double P99Ms, double MaxMs, double FinalP99Ms,
    long UpdatesPublished, double ReceiptsPerViewerPerSecond, double RelayCpuMsPer1000Receipts, double RelayCpuCoreShare,
    double RelayRssBeforeMiB, double RelayRssWithMiB, double RssKiBPerViewer, double NatsCpuCoreShare, double GeneratorCpuCoreShare,
    double ConnectSeconds, double PayloadBytes);

/// <summary>
/// One measured run: the publisher starts, N viewers connect (half en, half es, spread over the relays), a warm-up,
/// then the measured window; then every receipt is matched with its publish by sequence.
/// </summary>
internal sealed class RelayRun(string natsUrl, string stream, IReadOnlyList<RelayEndpoint> relays, int? natsPid, int readerThreads, int viewersPerAddress)
{
    private static readonly string[] Languages = ["en", "es"];

    public async Task<RelayResult> RunAsync(string label, int viewers, TimeSpan warmUp, TimeSpan measured)
    {
        var rssBefore = relays.Sum(r => ServerProbe.ResidentBytes(r.Pid));
        await using var nats = new NatsConnection(NatsOptions(natsUrl));
        await nats.ConnectAsync();
        var publisher = new CaptionPublisher(nats, stream, Languages);
        using var stopPublishing = new CancellationTokenSource();
        var publishing = publisher.RunAsync(stopPublishing.Token);
        try
        {
            // A relay serves a stream once its first update came (404 before): viewers join a live stream.
            await Task.Delay(TimeSpan.FromSeconds(2));
            var targets = new FeedTarget[viewers];
            var languageOf = new int[viewers];
            for (var v = 0; v < viewers; v++)
            {
                var relay = relays[v % relays.Count];
                languageOf[v] = v / relays.Count % Languages.Length;
                targets[v] = new FeedTarget(new IPEndPoint(IPAddress.Loopback, relay.Port), $"/ws/watch?stream={stream}&lang={Languages[languageOf[v]]}", SourceAddress(v));
            }

            var readers = new FeedReaders(targets, readerThreads);
            var connectStarted = Stopwatch.GetTimestamp();
            await readers.StartAsync();
            var connectSeconds = Stopwatch.GetElapsedTime(connectStarted).TotalSeconds;
            Console.Error.WriteLine($"{label}: {viewers} viewers connected in {connectSeconds:F1} s; warming up {warmUp.TotalSeconds} s");
            await Task.Delay(warmUp);

            var generator = Process.GetCurrentProcess();
            var cpuBefore = relays.Sum(r => ServerProbe.CpuTime(r.Pid).TotalMilliseconds);
            var natsBefore = natsPid is { } np ? ServerProbe.CpuTime(np).TotalMilliseconds : 0;
            var generatorBefore = generator.TotalProcessorTime.TotalMilliseconds;
            var start = Stopwatch.GetTimestamp();
            await Task.Delay(measured);
            var end = Stopwatch.GetTimestamp();
            var cpuMs = relays.Sum(r => ServerProbe.CpuTime(r.Pid).TotalMilliseconds) - cpuBefore;
            var natsMs = natsPid is { } np2 ? ServerProbe.CpuTime(np2).TotalMilliseconds - natsBefore : double.NaN;
            generator.Refresh();
            var generatorMs = generator.TotalProcessorTime.TotalMilliseconds - generatorBefore;
            var rssWith = relays.Sum(r => ServerProbe.ResidentBytes(r.Pid));

            await stopPublishing.CancelAsync();
            await publishing;
            // Let what was published last arrive: until nothing more came for 2 s (a held tentative is at most 250 ms
            // late by design; a relay that fell behind catches up), at most 60 s. What never arrives is missing.
            var drainStarted = Stopwatch.GetTimestamp();
            var quietSince = drainStarted;
            var lastCount = -1L;
            while (Stopwatch.GetElapsedTime(quietSince) < TimeSpan.FromSeconds(2) && Stopwatch.GetElapsedTime(drainStarted) < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250));
                var count = readers.Clients.Sum(c => (long)c.Count);
                if (count != lastCount)
                {
                    lastCount = count;
                    quietSince = Stopwatch.GetTimestamp();
                }
            }

            await readers.StopAsync();
            var windowSeconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
            return Analyse(label, viewers, readers, languageOf, publisher.Published, start, end, windowSeconds,
                cpuMs, natsMs, generatorMs, rssBefore, rssWith, connectSeconds);
        }
        finally
        {
            await stopPublishing.CancelAsync();
            await publishing;
        }
    }

    private IPAddress? SourceAddress(int viewer)
    {
        if (viewersPerAddress <= 0)
        {
            return null;
        }

        // 127.1.x.y: every 127/8 address is on loopback; each address stays within the relay's per-address cap.
        var block = viewer / viewersPerAddress;
        return new IPAddress([127, 1, (byte)(block / 250), (byte)(block % 250 + 1)]);
    }

    private RelayResult Analyse(
        string label, int viewers, FeedReaders readers, int[] languageOf, IReadOnlyList<Published> published, long start, long end,
        double windowSeconds, double cpuMs, double natsMs, double generatorMs, long rssBefore, long rssWith, double connectSeconds)
    {
        // Updates published inside the measured window, by language and sequence.
        var measured = Languages.Select(_ => new Dictionary<long, Published>()).ToArray();
        foreach (var p in published)
        {
            if (p.PublishedAt >= start && p.PublishedAt <= end)
            {
                measured[p.Language][p.Sequence] = p;
            }
        }

        var finalsPerLanguage = measured.Select(m => m.Values.Count(p => p.Final)).ToArray();
        var all = new List<double>(viewers * (int)(windowSeconds * 5));
        var finals = new List<double>(viewers * (int)(windowSeconds / 2 + 1));
        long finalsExpected = 0, finalsMissing = 0, finalsReordered = 0, receiptsInWindow = 0;
        for (var v = 0; v < viewers; v++)
        {
            var client = readers.Clients[v];
            var mine = measured[languageOf[v]];
            var sequences = client.Sequences;
            var receivedAt = client.ReceivedAt;
            var finalsGot = 0;
            var lastFinal = 0;
            for (var i = 0; i < sequences.Length; i++)
            {
                if (receivedAt[i] >= start && receivedAt[i] <= end)
                {
                    receiptsInWindow++;
                }

                if (!mine.TryGetValue(sequences[i], out var p))
                {
                    continue;
                }

                var latency = Stopwatch.GetElapsedTime(p.PublishedAt, receivedAt[i]).TotalMilliseconds;
                all.Add(latency);
                if (p.Final)
                {
                    finals.Add(latency);
                    finalsGot++;
                    if (p.FinalNumber <= lastFinal)
                    {
                        finalsReordered++;
                    }

                    lastFinal = p.FinalNumber;
                }
            }

            finalsExpected += finalsPerLanguage[languageOf[v]];
            finalsMissing += finalsPerLanguage[languageOf[v]] - finalsGot;
        }

        all.Sort();
        finals.Sort();
        var perThousand = receiptsInWindow == 0 ? double.NaN : cpuMs / (receiptsInWindow / 1000.0);
        var result = new RelayResult(
            label, relays.Count, viewers, windowSeconds, readers.Dropped, readers.OutOfOrder + finalsReordered,
            finalsExpected, finalsMissing, all.Count,
            ServerProbe.Percentile(all, 0.50), ServerProbe.Percentile(all, 0.99), all.Count == 0 ? double.NaN : all[^1],
            ServerProbe.Percentile(finals, 0.99),
            measured.Sum(m => m.Count), receiptsInWindow / windowSeconds / viewers, perThousand, cpuMs / 1000 / windowSeconds,
            rssBefore / 1048576.0, rssWith / 1048576.0, (rssWith - rssBefore) / 1024.0 / viewers,
            natsMs / 1000 / windowSeconds, generatorMs / 1000 / windowSeconds, connectSeconds,
            published.Count == 0 ? 0 : published.Average(p => p.Bytes));
        return result;
    }

    /// <summary>NATS options from a URL that may carry <c>user:password@</c>.</summary>
    internal static NatsOpts NatsOptions(string url)
    {
        var uri = new Uri(url);
        var auth = NatsAuthOpts.Default;
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            auth = auth with { Username = Uri.UnescapeDataString(parts[0]), Password = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : null };
        }

        return NatsOpts.Default with { Url = $"{uri.Scheme}://{uri.Host}:{(uri.Port > 0 ? uri.Port : 4222)}", AuthOpts = auth, Name = "relay-load publisher" };
    }
}
