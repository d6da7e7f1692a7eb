using System.Buffers.Text;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CaptionSidecar.Overlay;

namespace CaptionSidecar.Benchmarks.OverlayFanOut;

/// <summary>Latency percentiles of one server at one client count.</summary>
internal sealed record FanOutResult(string Server, int Clients, int Events, long Receipts, double P50Ms, double P99Ms, double MaxMs);

/// <summary>
/// Connects N feed clients, raises caption events one at a time over HTTP at a fixed pace, and records, for every
/// client and event, the time from just before the event's POST to the client's receipt of the update (same process,
/// same Stopwatch, so no clock skew).
/// </summary>
internal sealed class LoadGenerator(Uri baseAddress, string publishPath)
{
    private const int WarmUpEvents = 20;

    public async Task<FanOutResult> RunAsync(string server, int clients, int events, TimeSpan interval, CancellationToken cancellationToken)
    {
        var total = WarmUpEvents + events;
        var sent = new long[total + 1];
        var received = new long[clients][];
        var sockets = new ClientWebSocket[clients];
        // A language of its own per run, so the state left by an earlier run is not sent to these clients.
        var language = $"bench{clients}";
        var wsUri = new Uri($"ws://{baseAddress.Authority}/ws/captions?lang={language}");
        for (var start = 0; start < clients; start += 50)
        {
            await Task.WhenAll(Enumerable.Range(start, Math.Min(50, clients - start)).Select(async i =>
            {
                sockets[i] = new ClientWebSocket();
                received[i] = new long[total + 1];
                await sockets[i].ConnectAsync(wsUri, cancellationToken);
            }));
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var readers = Enumerable.Range(0, clients).Select(i => Task.Run(() => ReadAsync(sockets[i], received[i], total, stop.Token), stop.Token)).ToArray();
        using var http = new HttpClient { BaseAddress = baseAddress };
        for (var sequence = 1; sequence <= total; sequence++)
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(
                new OverlayCaption(language, sequence, [new OverlayCaptionLine("The quick brown fox jumps over the lazy dog.", " And then")], false, DateTimeOffset.UtcNow),
                OverlayJsonContext.Default.OverlayCaption);
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new("application/json");
            sent[sequence] = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync(publishPath, content, cancellationToken);
            response.EnsureSuccessStatusCode();
            await Task.Delay(interval, cancellationToken);
        }

        var all = Task.WhenAll(readers);
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30), cancellationToken)) != all)
        {
            await stop.CancelAsync();
        }

        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }

        var latencies = new List<double>(clients * events);
        for (var c = 0; c < clients; c++)
        {
            for (var s = WarmUpEvents + 1; s <= total; s++)
            {
                if (received[c][s] != 0)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(sent[s], received[c][s]).TotalMilliseconds);
                }
            }
        }

        latencies.Sort();
        return new FanOutResult(server, clients, events, latencies.Count, Percentile(latencies, 0.50), Percentile(latencies, 0.99), latencies.Count == 0 ? double.NaN : latencies[^1]);
    }

    private static async Task ReadAsync(ClientWebSocket socket, long[] receivedAt, int last, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var marker = "\"sequence\":"u8.ToArray();
        try
        {
            var filled = 0;
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(filled), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                filled += result.Count;
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var now = Stopwatch.GetTimestamp();
                var message = buffer.AsSpan(0, filled);
                filled = 0;
                var at = message.IndexOf(marker);
                if (at < 0 || !Utf8Parser.TryParse(message[(at + marker.Length)..], out long sequence, out _))
                {
                    throw new InvalidDataException("Feed message without a sequence: " + Encoding.UTF8.GetString(message));
                }

                if (sequence >= 1 && sequence <= last && receivedAt[sequence] == 0)
                {
                    receivedAt[sequence] = now;
                }

                if (sequence == last)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Gave up waiting: missing receipts show as a lower receipt count.
        }
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
