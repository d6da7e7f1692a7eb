using System.Threading.Channels;
using CaptionSidecar.Captions;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Translation;

/// <summary>
/// The text translation of one target language: it receives the final lines of every speaker who speaks another
/// language and reports each line's translation, as a turn, to that speaker's caption track of the target language.
/// It hears no audio. Replacing its sessions (a dropped connection, a session's time limit) is its own business:
/// no line is lost or translated twice because of it.
/// </summary>
public interface ITextTranslationTrack
{
    /// <summary>The target language.</summary>
    CaptionLanguage Language { get; }

    /// <summary>A snapshot for status and the cost meter (its usage, its model).</summary>
    TrackStatus Status { get; }

    /// <summary>
    /// Translates <paramref name="lines"/> in order until the channel completes (then finishes the lines taken, bounded
    /// by the drain timeout, and returns) or <paramref name="cancellationToken"/> is cancelled (stop at once). For each
    /// line it calls, on <c>captions(line.SpeakerKey)</c>: <see cref="ICaptionInput.TurnCommitted"/> (item id =
    /// <see cref="SourceLine.ItemId"/>, previous = that speaker's previous line's item id in this track, times = the
    /// line's), then <see cref="ICaptionInput.TextDelta"/>s and <see cref="ICaptionInput.TextCompleted"/>, or
    /// <see cref="ICaptionInput.TurnFailed"/> (refused twice, or later than the lag limit). Calls are never concurrent.
    /// </summary>
    Task RunAsync(ChannelReader<SourceLine> lines, Func<string, ICaptionInput> captions, CancellationToken cancellationToken);
}

/// <summary>Makes text translation tracks (the Realtime engine's; the test pattern has none).</summary>
public interface ITextTranslationTrackFactory
{
    /// <summary>
    /// A text translation into <paramref name="target"/>. <paramref name="realTime"/> is false when the speech comes
    /// faster than real time (a file with <c>--no-pacing</c>): then nobody watches live and no line is skipped as late.
    /// </summary>
    ITextTranslationTrack Create(CaptionLanguage target, bool realTime = true);
}
