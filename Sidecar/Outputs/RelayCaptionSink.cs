using System.Text.Json;
using CaptionSidecar.Captions;
using CaptionSidecar.Overlay;
using CaptionSidecar.Relay;
using CaptionSidecar.RelayOutput;

namespace CaptionSidecar.Outputs;

/// <summary>
/// Publishes every caption update to NATS for the viewer relays (docs/relay.md): the overlay's message
/// (<see cref="OverlayCaptions"/>) as JSON, numbered by <see cref="RelaySequence"/>, with its
/// <see cref="CaptionSubjects.KindHeader"/>. It only hands each message to the <see cref="RelayPublisher"/>'s queue,
/// whose loop never waits for NATS, so this sink never blocks on NATS: while NATS is away the publisher keeps only
/// the latest update per language.
/// </summary>
internal sealed class RelayCaptionSink(RelayPublisher publisher, TimeProvider time) : ICaptionSink
{
    private readonly RelaySequence _sequence = new(time);

    public string Name => "relay";

    public ValueTask WriteAsync(CaptionUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        return publisher.PostAsync(Message(update, _sequence.Next(update.Language)), cancellationToken);
    }

    public ValueTask CloseLanguageAsync(string language, CancellationToken cancellationToken) =>
        publisher.PostAsync(Closed(language, _sequence.Next(language), time.GetUtcNow()), cancellationToken);

    /// <summary>The message of <paramref name="update"/>: final when a line became final, cleared when cleared, else tentative.</summary>
    internal static RelayMessage Message(CaptionUpdate update, long sequence)
    {
        var kind = update.Finalized.Count > 0 ? CaptionUpdateKinds.Final
            : update.Kind == CaptionUpdateKind.Cleared ? CaptionUpdateKinds.Cleared
            : CaptionUpdateKinds.Tentative;
        return new RelayMessage(update.Language, kind, sequence, Json(OverlayCaptions.From(update, sequence)));
    }

    /// <summary>The message that says a language was turned off (or the sidecar stops): no lines, cleared, kind closed.</summary>
    internal static RelayMessage Closed(string language, long sequence, DateTimeOffset timestamp) =>
        new(language, CaptionUpdateKinds.Closed, sequence, Json(OverlayCaptions.Closed(language, sequence, timestamp)));

    private static byte[] Json(OverlayCaption caption) => JsonSerializer.SerializeToUtf8Bytes(caption, OverlayJsonContext.Default.OverlayCaption);
}
