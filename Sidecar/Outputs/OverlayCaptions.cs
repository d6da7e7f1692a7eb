using CaptionSidecar.Captions;
using CaptionSidecar.Overlay;

namespace CaptionSidecar.Outputs;

/// <summary>
/// A caption update as the overlay library's <see cref="OverlayCaption"/>: the message of the overlay's
/// <c>/ws/captions</c> feed and of the relay on NATS, so both outputs send exactly the same shape. A named speaker's
/// line carries the speaker's name and colour as its label; a cleared update has no lines.
/// </summary>
internal static class OverlayCaptions
{
    /// <summary>The overlay message of <paramref name="update"/>, numbered <paramref name="sequence"/> (each output numbers its own).</summary>
    public static OverlayCaption From(CaptionUpdate update, long sequence)
    {
        ArgumentNullException.ThrowIfNull(update);
        var lines = update.Lines.Select(l => new OverlayCaptionLine(l.FinalText, l.TentativeText, l.Speaker?.Name, l.Speaker?.Colour)).ToList();
        return new OverlayCaption(update.Language, sequence, lines, update.Kind == CaptionUpdateKind.Cleared, update.Timestamp);
    }

    /// <summary>The message that clears a language that was turned off (or at the end).</summary>
    public static OverlayCaption Closed(string language, long sequence, DateTimeOffset timestamp) =>
        new(language, sequence, [], Cleared: true, timestamp);
}
