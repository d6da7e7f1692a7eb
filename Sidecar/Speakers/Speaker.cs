using CaptionSidecar.Captions;

namespace CaptionSidecar.Speakers;

/// <summary>
/// A speaker the sidecar captions, resolved from configuration: each has its own capture, voice gate and
/// transcription session. <see cref="Label"/> is null for the one unnamed speaker of a sidecar without
/// <c>--speaker</c>, whose captions carry no name.
/// </summary>
/// <param name="Key">A stable key, unique among the speakers: the name, or <c>main</c> for the unnamed speaker. Used in API paths and logs.</param>
/// <param name="Label">Name and colour shown with every line; null for the unnamed speaker.</param>
/// <param name="Input">The audio input (an <c>--input</c> value).</param>
/// <param name="Language">The language spoken (ISO 639-1), which the transcription session is told.</param>
/// <param name="ObsMuteSource">An OBS input whose mute pauses this speaker's captions, or null.</param>
public sealed record Speaker(string Key, SpeakerLabel? Label, string Input, string Language, string? ObsMuteSource)
{
    /// <summary>The key of the unnamed speaker.</summary>
    public const string UnnamedKey = "main";

    /// <summary>The name as shown, or null for the unnamed speaker.</summary>
    public string? Name => Label?.Name;

    public override string ToString() => Label is null ? $"{Input} ({Language})" : $"{Label.Name}: {Input} ({Language})";
}
