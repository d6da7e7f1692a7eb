using CaptionSidecar.Captions;

namespace CaptionSidecar.Translation;

/// <summary>
/// A speaker's line that became final in the language they speak: what a text translation works from.
/// </summary>
/// <param name="SpeakerKey">The speaker's key (<see cref="Speakers.Speaker.Key"/>): which caption track of the target language the translation goes to.</param>
/// <param name="Speaker">The speaker's label, or null for the unnamed speaker.</param>
/// <param name="Language">The language of <paramref name="Text"/> (the speaker's).</param>
/// <param name="ItemId">The source turn's id; a translation's turn keeps it, so a line and its translations can be matched.</param>
/// <param name="Text">The final text.</param>
/// <param name="Start">Start of the speech on the sidecar's timeline.</param>
/// <param name="End">End of the speech on the sidecar's timeline.</param>
/// <param name="FinalAt">When the line became final (a <see cref="TimeProvider.GetTimestamp"/> of the sidecar's clock): the lag limit counts from here.</param>
public sealed record SourceLine(string SpeakerKey, SpeakerLabel? Speaker, string Language, string ItemId, string Text, TimeSpan Start, TimeSpan End, long FinalAt);
