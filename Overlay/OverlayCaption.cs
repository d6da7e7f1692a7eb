using System.Text.Json.Serialization;

namespace CaptionSidecar.Overlay;

/// <summary>
/// One displayed caption line: text that will not change any more, followed by a tail that still may; and
/// optionally a label saying whose line it is, with the label's colour. Consecutive lines with the same label form a
/// block, and the overlay page shows the label once, before the block's first line. Label and colour are left out of
/// the JSON when null, so unlabelled lines look exactly as before labels existed.
/// </summary>
/// <param name="Final">Committed text; the overlay never rewrites it.</param>
/// <param name="Tentative">The tail still being recognised (may be empty); the overlay styles it apart.</param>
/// <param name="Label">Who said the line (a speaker's name), or null. Shown as text, never as markup.</param>
/// <param name="Colour">The label's colour as CSS <c>#rrggbb</c>, or null; the page ignores any other form.</param>
public sealed record OverlayCaptionLine(
    string Final,
    string Tentative,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Label = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Colour = null);

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
