namespace CaptionSidecar.Captions;

/// <summary>
/// Who said a caption line, as outputs show it: the speaker's name and colour. Only named speakers have a label; the
/// default single unnamed speaker's lines have none, so every output looks exactly as it did before speakers.
/// </summary>
/// <param name="Name">The speaker's name as configured (<c>--speaker NAME=INPUT</c>), for example <c>Alice</c>.</param>
/// <param name="Colour">The speaker's colour as CSS <c>#rrggbb</c> (lower case), for the overlay.</param>
public sealed record SpeakerLabel(string Name, string Colour)
{
    /// <summary>The label as a caption prefix: <c>Name: </c>.</summary>
    public string Prefix => Name + ": ";
}
