namespace CaptionSidecar.Captions;

/// <summary>What changed in a caption update.</summary>
public enum CaptionUpdateKind
{
    /// <summary>The displayed lines changed (tentative text grew, or a turn became final).</summary>
    Text,

    /// <summary>The captions were cleared (silence timeout, a moderator's clear, or the language was turned off).</summary>
    Cleared,
}

/// <summary>
/// One display line: its final part, then its tentative tail (either may be empty), and who said it. With one unnamed
/// speaker (the default) <paramref name="Speaker"/> is null and outputs show the text alone, exactly as before
/// speakers existed. With named speakers every line carries its speaker; consecutive lines of one speaker form a
/// block, and an output that prints labels (<c>Name: text</c>) prints the label once, on the block's first line.
/// </summary>
public readonly record struct CaptionLine(string FinalText, string TentativeText, SpeakerLabel? Speaker = null)
{
    /// <summary>The whole line as displayed.</summary>
    public string Text => TentativeText.Length == 0 ? FinalText : FinalText.Length == 0 ? TentativeText : FinalText + TentativeText;
}

/// <summary>A turn whose text is final: what transcripts record.</summary>
/// <param name="Language">Caption language code (for example <c>en</c>).</param>
/// <param name="Index">1-based position of the turn in this language's transcript.</param>
/// <param name="ItemId">The engine's id for the turn.</param>
/// <param name="Text">Final text.</param>
/// <param name="Start">Start on the pipeline timeline.</param>
/// <param name="End">End on the pipeline timeline (never before <paramref name="Start"/>).</param>
/// <param name="Speaker">Who said it (a translation carries the label of the line it translates); null for the one unnamed speaker.</param>
public sealed record CaptionItem(string Language, int Index, string ItemId, string Text, TimeSpan Start, TimeSpan End, SpeakerLabel? Speaker = null);

/// <summary>
/// The state of one caption language after a change, as every output sees it. Updates for one language have
/// increasing <see cref="Sequence"/> numbers; an output that can only show the latest state may skip any update
/// except those with <see cref="Finalized"/> items when it keeps a record.
/// </summary>
/// <param name="Language">Caption language code.</param>
/// <param name="Sequence">Increasing per language, starting at 1.</param>
/// <param name="Kind">What changed.</param>
/// <param name="Lines">The display lines after layout (at most the configured number; empty when cleared).</param>
/// <param name="Finalized">Turns that became final with this update, in order (usually zero or one).</param>
/// <param name="Timestamp">When the update was made (wall clock).</param>
public sealed record CaptionUpdate(
    string Language,
    long Sequence,
    CaptionUpdateKind Kind,
    IReadOnlyList<CaptionLine> Lines,
    IReadOnlyList<CaptionItem> Finalized,
    DateTimeOffset Timestamp)
{
    /// <summary>The displayed text, lines joined by a newline.</summary>
    public string DisplayText => string.Join('\n', Lines.Select(l => l.Text));
}
