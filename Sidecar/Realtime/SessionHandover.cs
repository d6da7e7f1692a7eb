using CaptionSidecar.Audio;

namespace CaptionSidecar.Realtime;

/// <summary>
/// The decision of a session giving its live audio to the next one (a rollover). Once asked, the session stops taking
/// audio at the first pause between turns (or mid-turn at the deadline) and says from which pipeline sample the next
/// session hears. At a pause the next session also hears a short pre-roll (the audio since the last committed turn,
/// at most <see cref="MaxPreRoll"/>) so its VAD sees the start of speech that began just before; a turn the old
/// session commits afterwards from that audio is the next session's, so the old one must not caption it. Mid-turn
/// there is no pre-roll and the old session closes and keeps its turn. A plain type owned by the session's loop.
/// </summary>
internal sealed class SessionHandover
{
    /// <summary>Audio before the handover the next session hears again at a pause.</summary>
    public static readonly TimeSpan MaxPreRoll = TimeSpan.FromSeconds(2);

    // A server reports a turn's start up to its prefix padding (300 ms by default) before the speech itself.
    private const long PaddingSamples = AudioChunk.SampleRate / 2;

    /// <summary>The deadline of the handover asked for (null until asked).</summary>
    public DateTimeOffset? ForceAt { get; private set; }

    /// <summary>Where the next session hears from, once this session stopped taking live audio (null before).</summary>
    public long? From { get; private set; }

    /// <summary>True once this session stopped taking live audio.</summary>
    public bool HandedOver => From is not null;

    /// <summary>
    /// Where the next session's own turns begin: a turn this session commits from here on is the next session's
    /// (long.MaxValue when none is, as after a mid-turn handover or before the handover).
    /// </summary>
    public long NextHearsFrom { get; private set; } = long.MaxValue;

    /// <summary>Asks for a handover at the next pause between turns, or at <paramref name="forceAt"/> at the latest.</summary>
    public void Request(DateTimeOffset forceAt) => ForceAt ??= forceAt;

    /// <summary>
    /// Decides, before the next live chunk, whether to hand over now; true when this session must stop taking audio.
    /// </summary>
    /// <param name="now">The current time.</param>
    /// <param name="turnOpen">True while the session hears a turn it has not committed yet.</param>
    /// <param name="preRoll">Whether the next session should hear a pre-roll (VAD sessions).</param>
    /// <param name="nextSample">The pipeline sample of the next live chunk (the end of what this session heard).</param>
    /// <param name="lastCommitEnd">Where this session's last committed turn ended (pipeline sample).</param>
    /// <param name="replay">The recent audio, for the pre-roll.</param>
    public bool TryHandOver(DateTimeOffset now, bool turnOpen, bool preRoll, long nextSample, long lastCommitEnd, AudioReplayBuffer replay)
    {
        if (ForceAt is not { } forceAt || HandedOver || (turnOpen && now < forceAt))
        {
            return false;
        }

        var from = nextSample;
        if (!turnOpen && preRoll)
        {
            var preRollFrom = Math.Max(lastCommitEnd, nextSample - (long)(MaxPreRoll.TotalSeconds * AudioChunk.SampleRate));
            var heardAgain = replay.Since(preRollFrom);
            from = heardAgain.Count > 0 ? Math.Min(heardAgain[0].StartSample, nextSample) : nextSample;
            NextHearsFrom = from - PaddingSamples;
        }

        From = from;
        return true;
    }

    /// <summary>True when a turn this session commits from <paramref name="startSample"/> on is heard again by the next session.</summary>
    public bool HeardByNext(long startSample) => HandedOver && startSample >= NextHearsFrom;
}
