namespace CaptionSidecar.Overlay;

/// <summary>One displayed caption line: text that will not change any more, followed by a tail that still may.</summary>
/// <param name="Final">Committed text; the overlay never rewrites it.</param>
/// <param name="Tentative">The tail still being recognised (may be empty); the overlay styles it apart.</param>
public sealed record OverlayCaptionLine(string Final, string Tentative);

/// <summary>
/// The whole visible state of one language's captions at one moment. Each update replaces the previous one for
/// its language, so a client that missed nothing and a client that just connected show the same thing.
/// </summary>
/// <param name="Language">Language code (for example <c>en</c>); clients filter on it with <c>?lang=</c>.</param>
/// <param name="Sequence">Increases with every update of this language; lets clients drop stale updates.</param>
/// <param name="Lines">Visible lines, oldest first.</param>
/// <param name="Cleared">True when captions were cleared (then <paramref name="Lines"/> is empty).</param>
/// <param name="Timestamp">When the update was made (drives the overlay's fade after silence).</param>
public sealed record OverlayCaption(
    string Language,
    long Sequence,
    IReadOnlyList<OverlayCaptionLine> Lines,
    bool Cleared,
    DateTimeOffset Timestamp);
