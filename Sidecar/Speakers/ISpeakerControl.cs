namespace CaptionSidecar.Speakers;

/// <summary>
/// What moderators see of a speaker and may change (control page, <c>GET /api/speakers</c>, tray). Read from the
/// pipeline; immutable snapshot.
/// </summary>
/// <param name="Name">The speaker's key (<see cref="Speaker.Key"/>): the name, or <c>main</c> for the unnamed speaker.</param>
/// <param name="Label">True for a named speaker (lines carry the name), false for the unnamed one.</param>
/// <param name="Colour">The speaker's colour (<c>#rrggbb</c>), or null for the unnamed speaker.</param>
/// <param name="Language">The language spoken.</param>
/// <param name="Input">The audio input as configured.</param>
/// <param name="Captioned">False while a moderator muted the speaker: none of their audio goes to any session.</param>
/// <param name="InputState"><c>opening</c>, <c>waiting-for-audio</c>, <c>receiving</c>, <c>ended</c>, <c>failed</c>, or <c>unused</c> (the test pattern hears no audio).</param>
/// <param name="InputDetail">A sentence about the input when there is something to say (why it failed, what is waited for), else null.</param>
/// <param name="LevelDbfs">Recent peak level in dBFS, or null when no audio arrives.</param>
/// <param name="RmsDbfs">Recent RMS level in dBFS, or null when no audio arrives (or digital silence).</param>
/// <param name="Speech">True while the local level detector hears speech; null before audio arrives.</param>
/// <param name="MutedInObs">True while the speaker's OBS mute source is muted; null when none is configured.</param>
public sealed record SpeakerStatus(
    string Name,
    bool Label,
    string? Colour,
    string Language,
    string Input,
    bool Captioned,
    string InputState,
    string? InputDetail,
    double? LevelDbfs,
    double? RmsDbfs,
    bool? Speech,
    bool? MutedInObs);

/// <summary>The result of asking for a speaker to be captioned or muted.</summary>
public enum SpeakerChange
{
    /// <summary>No speaker has that name.</summary>
    Unknown,

    /// <summary>The speaker is now in the state asked for (it may already have been).</summary>
    Applied,
}

/// <summary>
/// Moderators' view of the speakers, implemented by the pipeline. Muting a speaker stops every session that hears
/// them (nothing is sent or billed) and clears their lines on every output; captioning them again starts new
/// sessions. The other speakers are not affected either way.
/// </summary>
public interface ISpeakerControl
{
    /// <summary>Every configured speaker, in configuration order.</summary>
    IReadOnlyList<SpeakerStatus> Speakers { get; }

    /// <summary>Captions (<paramref name="captioned"/> true) or mutes the speaker named <paramref name="name"/> (case-insensitive; <c>main</c> for the unnamed one).</summary>
    Task<SpeakerChange> SetCaptionedAsync(string name, bool captioned, CancellationToken cancellationToken);
}
