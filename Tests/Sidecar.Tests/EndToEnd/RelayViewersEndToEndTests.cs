using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// Issue 13 end to end: the sidecar (test pattern, en and es) publishes to NATS, two relay processes
/// (<c>CaptionSidecar relay</c>) serve viewers on <c>/ws/watch</c> (docs/relay.md). The relays serve "demo"
/// from the start (<c>--streams</c>), so viewers can connect before the sidecar's first update.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RelayViewersEndToEndTests : IDisposable
{
    private readonly TestFolder _folder = new("caption-relay-e2e-");

    public void Dispose() => _folder.Dispose();

    [Fact(Timeout = 180000)]
    public async Task SidecarAndTwoRelays_ViewersGetEveryFinalLineOfTheirLanguageInOrderAndALateViewerTheCurrentLineAtOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relay1 = await StartRelayAsync(nats, ct);
        await using var relay2 = await StartRelayAsync(nats, ct);

        // Viewers of both languages on both relays, connected before the sidecar starts: they must see every line.
        await using var en1 = await Viewer.ConnectAsync(relay1.Port, "en", ct);
        await using var es1 = await Viewer.ConnectAsync(relay1.Port, "es", ct);
        await using var en2 = await Viewer.ConnectAsync(relay2.Port, "en", ct);
        await using var es2 = await Viewer.ConnectAsync(relay2.Port, "es", ct);
        await using var sidecar = StartSidecar(nats);
        using var control = await SidecarControl.ConnectAsync(sidecar);

        // The truth: the final lines the sidecar's own overlay feed shows, in order (same messages, same layout).
        await using var overlayEn = await Viewer.ConnectAsync(new Uri($"ws://127.0.0.1:{control.Port}/ws/captions?lang=en"), ct);
        await using var overlayEs = await Viewer.ConnectAsync(new Uri($"ws://127.0.0.1:{control.Port}/ws/captions?lang=es"), ct);
        var truthEn = await overlayEn.WaitForFinalLinesAsync(3, sidecar, ct);
        var truthEs = await overlayEs.WaitForFinalLinesAsync(3, sidecar, ct);

        // A viewer joining now gets the language's current state at once, before any new update (captions never
        // clear here: --clear-after 0).
        var known = es2.LastSequence;
        await using var late = await Viewer.ConnectAsync(relay2.Port, "es", ct);
        var current = await late.NextAsync(ct);
        Assert.Equal("es", current.GetProperty("language").GetString());
        if (es2.LastSequence == known)
        {
            // No update came meanwhile, so the first message can only be the state the relay held.
            Assert.Equal(known, current.GetProperty("sequence").GetInt64());
        }

        Assert.Contains("[TEST]", current.GetRawText(), StringComparison.Ordinal);

        // The overlay's feed was opened after the sidecar started: compare from its first line on.
        foreach (var (viewer, truth) in new[] { (en1, truthEn), (en2, truthEn), (es1, truthEs), (es2, truthEs) })
        {
            var seen = await viewer.WaitForFinalLineAsync(truth[^1], sidecar, ct);
            var from = seen.IndexOf(truth[0]);
            Assert.True(from >= 0, $"the viewer never showed '{truth[0]}': {string.Join(" | ", seen)}");
            Assert.Equal(truth, seen.Skip(from).Take(truth.Count));
        }

        Assert.All(truthEn.Concat(truthEs), l => Assert.StartsWith("[TEST]", l, StringComparison.Ordinal));
        Assert.NotEqual(truthEn, truthEs);
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
    }

    [Fact(Timeout = 180000)]
    public async Task NatsKilledAndRestarted_SidecarAndRelaysReconnectAndViewersGetCaptionsAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relay = await StartRelayAsync(nats, ct);
        await using var viewer = await Viewer.ConnectAsync(relay.Port, "es", ct);
        await using var sidecar = StartSidecar(nats);
        await viewer.WaitForFinalLinesAsync(1, sidecar, ct);

        await nats.KillAsync();
        await sidecar.WaitForStderrAsync("lost NATS", 1, TimeSpan.FromSeconds(30));
        var before = viewer.LastSequence;
        await nats.RestartAsync(ct);
        var accepting = Stopwatch.StartNew();

        // Captions flow again: an update newer than anything before the outage reaches the viewer. The poll's bound
        // is generous (CI); the issue asks for 2 s, which the figure in the output shows.
        await Poll.UntilAsync(
            () => viewer.LastSequence > before,
            "a caption update at the viewer after NATS restarted",
            ct,
            timeoutMs: 20000,
            intervalMs: 20,
            failIf: sidecar.ExitedWith,
            details: () => $"{sidecar.StderrDetails()}\nrelay:\n{relay.Process.Stderr}");
        var back = accepting.ElapsedMilliseconds;
        TestContext.Current.SendDiagnosticMessage($"captions back at the viewer {back} ms after NATS accepted again (issue 13 asks for 2000 ms)");
        TestContext.Current.TestOutputHelper?.WriteLine($"captions back at the viewer {back} ms after NATS accepted again (issue 13 asks for 2000 ms)");
        await sidecar.WaitForStderrAsync("is back", 1, TimeSpan.FromSeconds(30));
        Assert.Equal(1, sidecar.Stderr.Split('\n').Count(l => l.Contains("lost NATS", StringComparison.Ordinal)));
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
    }

    [Fact(Timeout = 180000)]
    public async Task NatsOverTls_SidecarAndRelayConnectWithTlsUrls_ViewersGetCaptions()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct, tls: true);
        Assert.StartsWith("tls://", nats.RelayUrl, StringComparison.Ordinal);
        await using var relay = await StartRelayAsync(nats, ct);
        await using var viewer = await Viewer.ConnectAsync(relay.Port, "es", ct);
        await using var sidecar = StartSidecar(nats);

        var lines = await viewer.WaitForFinalLinesAsync(2, sidecar, ct);

        Assert.All(lines, l => Assert.StartsWith("[TEST]", l, StringComparison.Ordinal));
        using var control = await SidecarControl.ConnectAsync(sidecar);
        using var status = JsonDocument.Parse(await control.Http.GetStringAsync(new Uri("/api/status", UriKind.Relative), ct));
        var relayStatus = status.RootElement.GetProperty("relay");
        Assert.True(relayStatus.GetProperty("connected").GetBoolean());
        Assert.StartsWith("tls://", relayStatus.GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(nats.RelayUrl.Split('@')[0].Split(':')[^1], relay.Process.Stderr, StringComparison.Ordinal);
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
    }

    /// <summary>A process environment that trusts the test NATS server's private CA when it uses TLS.</summary>
    private static Dictionary<string, string>? TrustFor(NatsServer nats) =>
        nats.CaFile is { } ca ? new Dictionary<string, string> { ["SSL_CERT_FILE"] = ca } : null;

    private SidecarProcess StartSidecar(NatsServer nats) => SidecarProcess.Start(
        ["--engine", "test-pattern", "--languages", "es", "--no-obs", "--http-port", "0", "--data-dir", _folder.Data,
         "--max-chars", "200", "--clear-after", "0", "--relay", nats.SidecarUrl, "--relay-stream", "demo"],
        environment: TrustFor(nats));

    /// <summary>Starts <c>CaptionSidecar relay</c> on a free port and waits until its <c>/healthz</c> says it is connected.</summary>
    private static async Task<RelayProcess> StartRelayAsync(NatsServer nats, CancellationToken ct)
    {
        var port = TestHost.FreePort();
        var process = SidecarProcess.Start(["relay", "--nats", nats.RelayUrl, "--http-port", $"{port}", "--streams", "demo"], environment: TrustFor(nats));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Poll.UntilAsync(
            async t =>
            {
                try
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"), t);
                    return response.StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            $"the relay on port {port} connected to NATS",
            ct,
            timeoutMs: 30000,
            failIf: process.ExitedWith,
            details: () => $"relay stderr:\n{process.Stderr}\nnats:\n{nats.Log}");
        return new RelayProcess(process, port);
    }

    private sealed record RelayProcess(SidecarProcess Process, int Port) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }

    /// <summary>A viewer: one WebSocket, its messages read by one loop into a queue the test reads.</summary>
    private sealed class Viewer : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket;
        private readonly Channel<JsonElement> _messages = Channel.CreateUnbounded<JsonElement>();
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _finalLines = [];
        private readonly Task _receiving;
        private long _lastSequence;

        private Viewer(ClientWebSocket socket)
        {
            _socket = socket;
            _receiving = ReceiveAsync();
        }

        /// <summary>The highest sequence received so far.</summary>
        public long LastSequence => Interlocked.Read(ref _lastSequence);

        public static Task<Viewer> ConnectAsync(int relayPort, string language, CancellationToken ct) =>
            ConnectAsync(new Uri($"ws://127.0.0.1:{relayPort}/ws/watch?stream=demo&lang={language}"), ct);

        public static async Task<Viewer> ConnectAsync(Uri uri, CancellationToken ct)
        {
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(uri, ct);
            return new Viewer(socket);
        }

        public async Task<JsonElement> NextAsync(CancellationToken ct) => await _messages.Reader.ReadAsync(ct);

        /// <summary>
        /// Reads until <paramref name="count"/> distinct final lines were shown (a line with final text and no
        /// tentative tail), in the order they first appeared; returns the first <paramref name="count"/>.
        /// </summary>
        public async Task<List<string>> WaitForFinalLinesAsync(int count, SidecarProcess sidecar, CancellationToken ct)
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bound.CancelAfter(TimeSpan.FromSeconds(90));
            try
            {
                while (_finalLines.Count < count)
                {
                    var message = await NextAsync(bound.Token);
                    foreach (var line in message.GetProperty("lines").EnumerateArray())
                    {
                        var final = line.GetProperty("final").GetString() ?? string.Empty;
                        if (final.Length > 0 && line.GetProperty("tentative").GetString() is "" or null && !_finalLines.Contains(final))
                        {
                            _finalLines.Add(final);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                Assert.Fail($"only {_finalLines.Count} of {count} final lines reached the viewer: {string.Join(" | ", _finalLines)}\n{sidecar.StderrDetails()}");
            }

            return [.. _finalLines.Take(count)];
        }

        /// <summary>Reads until <paramref name="line"/> was shown as a final line; returns every final line so far, in order.</summary>
        public async Task<List<string>> WaitForFinalLineAsync(string line, SidecarProcess sidecar, CancellationToken ct)
        {
            while (!_finalLines.Contains(line))
            {
                await WaitForFinalLinesAsync(_finalLines.Count + 1, sidecar, ct);
            }

            return [.. _finalLines];
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _socket.Abort();
            await _receiving;
            _socket.Dispose();
            _stop.Dispose();
        }

        private async Task ReceiveAsync()
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    using var message = new MemoryStream();
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await _socket.ReceiveAsync(buffer.AsMemory(), _stop.Token);
                        message.Write(buffer, 0, result.Count);
                    }
                    while (!result.EndOfMessage);

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    var json = JsonDocument.Parse(Encoding.UTF8.GetString(message.ToArray())).RootElement;
                    var sequence = json.GetProperty("sequence").GetInt64();
                    if (sequence > Interlocked.Read(ref _lastSequence))
                    {
                        Interlocked.Exchange(ref _lastSequence, sequence);
                    }

                    _messages.Writer.TryWrite(json);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
            {
                // The test is over, or the relay went away.
            }
            finally
            {
                _messages.Writer.TryComplete();
            }
        }
    }
}
