using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CaptionSidecar.Benchmarks.FeedLoad;
using CaptionSidecar.Overlay;

namespace CaptionSidecar.Benchmarks.OverlayFanOut;

/// <summary>
/// Latency percentiles of one server at one client count, whether every client got every update in order, and the
/// server process's CPU time (user + system) per event while the events ran (a figure a busy machine hardly moves).
/// </summary>
internal sealed record FanOutResult(
    string Server, int Clients, int Events, long Receipts, long Missing, long OutOfOrder, double P50Ms, double P99Ms, double MaxMs, double CpuMsPerEvent);

/// <summary>
/// Connects N feed clients (<see cref="FeedReaders"/>), raises caption events one at a time at a fixed pace with a
/// raw keep-alive HTTP/1.1 POST, and records, for every client and event, the time from just before the event's POST
/// to the client's receipt of the update (same process, same Stopwatch, so no clock skew).
/// </summary>
internal sealed class LoadGenerator(IPEndPoint server, string publishPath, int readerThreads, Func<TimeSpan> serverCpuTime)
{
    private const int WarmUpEvents = 20;

    /// <summary>One run; <paramref name="language"/> must be new to the server, so no earlier state reaches these clients.</summary>
    public async Task<FanOutResult> RunAsync(string serverName, string language, int clients, int events, TimeSpan interval, CancellationToken cancellationToken)
    {
        var total = WarmUpEvents + events;
        var sent = new long[total + 1];
        var target = new FeedTarget(server, $"/ws/captions?lang={language}");
        var readers = new FeedReaders([.. Enumerable.Repeat(target, clients)], readerThreads, total);
        await readers.StartAsync();
        var cpuBefore = serverCpuTime();
        using (var publisher = await Publisher.ConnectAsync(server, publishPath, cancellationToken))
        {
            for (var sequence = 1; sequence <= total; sequence++)
            {
                var body = JsonSerializer.SerializeToUtf8Bytes(
                    new OverlayCaption(language, sequence, [new OverlayCaptionLine("The quick brown fox jumps over the lazy dog.", " And then")], false, DateTimeOffset.UtcNow),
                    OverlayJsonContext.Default.OverlayCaption);
                sent[sequence] = Stopwatch.GetTimestamp();
                await publisher.PostAsync(body, cancellationToken);
                await Task.Delay(interval, cancellationToken);
            }
        }

        await readers.FinishAsync(TimeSpan.FromSeconds(30));
        var cpuMsPerEvent = (serverCpuTime() - cpuBefore).TotalMilliseconds / total;

        var latencies = new List<double>(clients * events);
        long missing = 0;
        foreach (var client in readers.Clients)
        {
            var sequences = client.Sequences;
            var receivedAt = client.ReceivedAt;
            var got = 0;
            for (var i = 0; i < sequences.Length; i++)
            {
                var s = sequences[i];
                if (s is >= 1 and <= int.MaxValue && s <= total)
                {
                    got++;
                    if (s > WarmUpEvents)
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(sent[s], receivedAt[i]).TotalMilliseconds);
                    }
                }
            }

            missing += total - got;
        }

        latencies.Sort();
        return new FanOutResult(serverName, clients, events, latencies.Count, missing, readers.OutOfOrder,
            ServerProbe.Percentile(latencies, 0.50), ServerProbe.Percentile(latencies, 0.99), latencies.Count == 0 ? double.NaN : latencies[^1], cpuMsPerEvent);
    }

    /// <summary>One keep-alive HTTP/1.1 connection that POSTs JSON and expects 2xx (no HttpClient machinery in the timed path).</summary>
    private sealed class Publisher(Socket socket, string head) : IDisposable
    {
        private readonly byte[] _response = new byte[4096];

        public static async Task<Publisher> ConnectAsync(IPEndPoint server, string path, CancellationToken cancellationToken)
        {
            var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(server, cancellationToken);
            return new Publisher(socket, $"POST {path} HTTP/1.1\r\nHost: {server}\r\nContent-Type: application/json\r\nContent-Length: ");
        }

        public async Task PostAsync(byte[] body, CancellationToken cancellationToken)
        {
            var request = new byte[head.Length + 16 + body.Length];
            var length = Encoding.ASCII.GetBytes(head + body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\r\n\r\n", request);
            body.CopyTo(request, length);
            await socket.SendAsync(request.AsMemory(0, length + body.Length), cancellationToken);

            var filled = 0;
            int headerEnd;
            while ((headerEnd = _response.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
            {
                var read = await socket.ReceiveAsync(_response.AsMemory(filled), cancellationToken);
                if (read == 0)
                {
                    throw new InvalidDataException("The server closed the publish connection.");
                }

                filled += read;
            }

            var headers = _response.AsSpan(0, headerEnd);
            if (!headers.StartsWith("HTTP/1.1 2"u8))
            {
                throw new InvalidDataException("Publish refused: " + Encoding.ASCII.GetString(headers));
            }

            // Skip a body if there is one (both servers answer 204, but stay correct if not).
            var contentLength = 0;
            var marker = "\r\ncontent-length:"u8;
            var lower = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(headers).ToLowerInvariant());
            var at = lower.AsSpan().IndexOf(marker);
            if (at >= 0)
            {
                var value = lower.AsSpan(at + marker.Length).TrimStart((byte)' ');
                _ = Utf8Parser.TryParse(value, out contentLength, out _);
            }

            var bodyRead = filled - headerEnd - 4;
            while (bodyRead < contentLength)
            {
                var read = await socket.ReceiveAsync(_response.AsMemory(0, Math.Min(_response.Length, contentLength - bodyRead)), cancellationToken);
                if (read == 0)
                {
                    throw new InvalidDataException("The server closed the publish connection mid-response.");
                }

                bodyRead += read;
            }
        }

        public void Dispose() => socket.Dispose();
    }
}
