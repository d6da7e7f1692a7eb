using System.Text.Json;
using CaptionSidecar.Captions;
using CaptionSidecar.Outputs;
using CaptionSidecar.Overlay;
using CaptionSidecar.Relay;
using CaptionSidecar.RelayOutput;

namespace CaptionSidecar.Tests.Relay;

/// <summary>What the relay output puts on NATS for each caption update: the overlay's message, its kind, its sequence.</summary>
public sealed class RelayCaptionSinkTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 11, 0, 0, TimeSpan.Zero);

    private static CaptionUpdate Update(CaptionUpdateKind kind, IReadOnlyList<CaptionLine> lines, int finals = 0) => new(
        "es",
        7,
        kind,
        lines,
        [.. Enumerable.Range(1, finals).Select(i => new CaptionItem("es", i, $"item{i}", "Hola.", TimeSpan.Zero, TimeSpan.Zero))],
        Start);

    private static OverlayCaption Parse(RelayMessage message) =>
        JsonSerializer.Deserialize(message.Payload, OverlayJsonContext.Default.OverlayCaption)!;

    private static string Json(OverlayCaption caption) => JsonSerializer.Serialize(caption, OverlayJsonContext.Default.OverlayCaption);

    [Fact]
    public void Message_NamedSpeakers_TheOverlaysMessageWithLabelsAndColours()
    {
        var alice = new SpeakerLabel("Alice", "#ff8800");
        var update = Update(CaptionUpdateKind.Text, [new CaptionLine("Hola.", "", alice), new CaptionLine("", "que tal", null)]);

        var message = RelayCaptionSink.Message(update, 1_764_000_000_000_000);

        // Exactly what the overlay's feed sends (one shared conversion), numbered with the relay's sequence.
        Assert.Equal(Json(OverlayCaptions.From(update, 1_764_000_000_000_000)), System.Text.Encoding.UTF8.GetString(message.Payload));
        using var json = JsonDocument.Parse(message.Payload);
        var lines = json.RootElement.GetProperty("lines");
        Assert.Equal("Alice", lines[0].GetProperty("label").GetString());
        Assert.Equal("#ff8800", lines[0].GetProperty("colour").GetString());
        Assert.False(lines[1].TryGetProperty("label", out _));
        Assert.Equal(("es", 1_764_000_000_000_000L), (json.RootElement.GetProperty("language").GetString(), json.RootElement.GetProperty("sequence").GetInt64()));
        Assert.Equal(("es", 1_764_000_000_000_000L), (message.Language, message.Sequence));
    }

    [Fact]
    public void Message_Kinds_FinalTentativeCleared()
    {
        Assert.Equal(CaptionUpdateKinds.Final, RelayCaptionSink.Message(Update(CaptionUpdateKind.Text, [new CaptionLine("Hola.", "")], finals: 1), 1).Kind);
        Assert.Equal(CaptionUpdateKinds.Tentative, RelayCaptionSink.Message(Update(CaptionUpdateKind.Text, [new CaptionLine("", "Ho")]), 1).Kind);
        var cleared = RelayCaptionSink.Message(Update(CaptionUpdateKind.Cleared, []), 1);
        Assert.Equal(CaptionUpdateKinds.Cleared, cleared.Kind);
        Assert.True(Parse(cleared).Cleared);
    }

    [Fact]
    public void Closed_KindClosedNoLinesCleared()
    {
        var closed = RelayCaptionSink.Closed("es", 5, Start);

        Assert.Equal(CaptionUpdateKinds.Closed, closed.Kind);
        Assert.Equal(Json(new OverlayCaption("es", 5, [], true, Start)), System.Text.Encoding.UTF8.GetString(closed.Payload));
    }

    [Fact]
    public void Sequence_MicrosecondsSinceTheEpochStrictlyIncreasingPerLanguage()
    {
        var time = new SteppingClock { Now = Start };
        var sequence = new RelaySequence(time);
        var now = (Start - DateTimeOffset.UnixEpoch).Ticks / 10;

        var first = sequence.Next("en");
        var sameInstant = sequence.Next("en");
        var otherLanguage = sequence.Next("es");
        time.Now += TimeSpan.FromSeconds(1);
        var later = sequence.Next("en");
        time.Now = Start - TimeSpan.FromHours(1); // the clock steps back (NTP): still growing
        var afterStepBack = sequence.Next("en");

        Assert.Equal([now, now + 1, now, now + 1_000_000, now + 1_000_001], [first, sameInstant, otherLanguage, later, afterStepBack]);
    }

    /// <summary>A wall clock that can also step back (FakeTimeProvider cannot).</summary>
    private sealed class SteppingClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
