using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CaptionSidecar.Captions;
using CaptionSidecar.Outputs;
using CaptionSidecar.Overlay;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Outputs;

public sealed class OverlayCaptionSinkTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 14, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly CaptionFeed _feed = new(Options.Create(new OverlayServerOptions()), NullLogger<CaptionFeed>.Instance);

    private static CaptionUpdate Update(string language, long sequence, string text, int finals = 0, CaptionUpdateKind kind = CaptionUpdateKind.Text) => new(
        language,
        sequence,
        kind,
        kind == CaptionUpdateKind.Cleared ? [] : [new CaptionLine(text, "")],
        [.. Enumerable.Range(1, finals).Select(i => new CaptionItem(language, i, $"item{i}", text, TimeSpan.Zero, TimeSpan.Zero))],
        Start);

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_LanguageClosedAndTurnedOnAgain_FeedSequenceKeepsGrowingAndCloseClears()
    {
        var ct = TestContext.Current.CancellationToken;
        var socket = new RecordingWebSocket();
        using var subscription = _feed.Subscribe(socket, [], "test");
        var sink = new OverlayCaptionSink(_feed, _time);

        await sink.WriteAsync(Update("en", 1, "Hello"), ct);
        await sink.WriteAsync(Update("en", 2, "Hello there.", finals: 1), ct);
        await sink.CloseLanguageAsync("en", ct);

        // The language's new caption track counts from 1 again; the overlay must still see a growing sequence.
        await sink.WriteAsync(Update("en", 1, "Again."), ct);
        await sink.WriteAsync(Update("es", 1, "Hola."), ct);

        var messages = await socket.MessagesAsync(5, ct);
        Assert.Equal([("en", 1L), ("en", 2L), ("en", 3L), ("en", 4L), ("es", 1L)], messages.Select(m => (m.GetProperty("language").GetString(), m.GetProperty("sequence").GetInt64())));
        Assert.True(messages[2].GetProperty("cleared").GetBoolean());
        Assert.False(messages[3].GetProperty("cleared").GetBoolean());
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_NamedSpeakers_LinesCarryLabelAndColourAndUnnamedLinesNeither()
    {
        var ct = TestContext.Current.CancellationToken;
        var socket = new RecordingWebSocket();
        using var subscription = _feed.Subscribe(socket, [], "test");
        var sink = new OverlayCaptionSink(_feed, _time);
        var alice = new SpeakerLabel("Alice", "#ff8800");
        var bob = new SpeakerLabel("Bob", "#00aaff");

        await sink.WriteAsync(new CaptionUpdate("en", 1, CaptionUpdateKind.Text,
            [new CaptionLine("Hi.", "", alice), new CaptionLine("Still me", "", alice), new CaptionLine("", "Me now", bob)], [], Start), ct);
        await sink.WriteAsync(Update("en", 2, "Nobody named."), ct);

        var messages = await socket.MessagesAsync(2, ct);
        var lines = messages[0].GetProperty("lines").EnumerateArray().ToList();
        Assert.Equal(["Alice", "Alice", "Bob"], lines.Select(l => l.GetProperty("label").GetString()));
        Assert.Equal(["#ff8800", "#ff8800", "#00aaff"], lines.Select(l => l.GetProperty("colour").GetString()));
        Assert.Equal("Me now", lines[2].GetProperty("tentative").GetString());
        // Without a speaker the line is exactly as before labels existed: no label or colour property at all.
        var plain = Assert.Single(messages[1].GetProperty("lines").EnumerateArray().ToList());
        Assert.Equal(["final", "tentative"], plain.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task CaptionsPerMinute_FinishedLinesOfTheLastMinuteOnly()
    {
        var ct = TestContext.Current.CancellationToken;
        var sink = new OverlayCaptionSink(_feed, _time);

        await sink.WriteAsync(Update("en", 1, "Two lines.", finals: 2), ct);
        await sink.WriteAsync(Update("en", 2, "Tentative only"), ct);
        _time.Advance(TimeSpan.FromSeconds(30));
        await sink.WriteAsync(Update("es", 1, "Una.", finals: 1), ct);
        Assert.Equal(3, sink.CaptionsPerMinute);

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(1, sink.CaptionsPerMinute);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, sink.CaptionsPerMinute);
    }

    /// <summary>An open WebSocket that keeps every text message sent on it.</summary>
    private sealed class RecordingWebSocket : WebSocket
    {
        private readonly System.Threading.Channels.Channel<string> _sent = System.Threading.Channels.Channel.CreateUnbounded<string>();
        private readonly MemoryStream _partial = new();

        public override WebSocketCloseStatus? CloseStatus => null;

        public override string? CloseStatusDescription => null;

        public override WebSocketState State => WebSocketState.Open;

        public override string? SubProtocol => null;

        public async Task<IReadOnlyList<JsonElement>> MessagesAsync(int count, CancellationToken cancellationToken)
        {
            var messages = new List<JsonElement>();
            while (messages.Count < count)
            {
                using var document = JsonDocument.Parse(await _sent.Reader.ReadAsync(cancellationToken));
                messages.Add(document.RootElement.Clone());
            }

            return messages;
        }

        public override void Abort()
        {
        }

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Dispose()
        {
        }

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            Task.FromException<WebSocketReceiveResult>(new NotSupportedException());

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            _partial.Write(buffer);
            if (endOfMessage)
            {
                _sent.Writer.TryWrite(Encoding.UTF8.GetString(_partial.ToArray()));
                _partial.SetLength(0);
            }

            return Task.CompletedTask;
        }
    }
}
