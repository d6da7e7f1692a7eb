namespace CaptionSidecar.Speakers;

/// <summary>
/// One speaker as configured: the <c>Speakers</c> list in settings (<c>Speakers:0:Name</c>, ...), or
/// <c>--speaker NAME=INPUT</c> on the command line (repeatable). Without any, the sidecar captions one unnamed speaker
/// from <c>Audio:Input</c> in <c>Realtime:Language</c>, exactly as before speakers existed.
/// </summary>
public sealed class SpeakerOptions
{
    public const string Section = "Speakers";

    /// <summary>The name shown before the speaker's lines (letters, digits, spaces, <c>. _ -</c>; at most 32 characters).</summary>
    public string? Name { get; set; }

    /// <summary>The audio input, anything <c>--input</c> takes: <c>default</c>, <c>device:</c>, <c>file:</c>, <c>stdin</c>, <c>cmd:</c>. Default: <c>Audio:Input</c>.</summary>
    public string? Input { get; set; }

    /// <summary>The language the speaker speaks (ISO 639-1). Default: <c>Realtime:Language</c>.</summary>
    public string? Language { get; set; }

    /// <summary>The speaker's colour on the overlay, CSS <c>#rrggbb</c>. Default: one from a palette that reads well on dark video, by position.</summary>
    public string? Colour { get; set; }

    /// <summary>An OBS input (this speaker's mic) whose mute pauses this speaker's captions, like <c>Obs:MuteSource</c> for the host.</summary>
    public string? ObsMuteSource { get; set; }
}
