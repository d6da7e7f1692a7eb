using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;

namespace CaptionSidecar.Tracks;

/// <summary>
/// The engine side of one caption language: it hears the audio and reports turns and text into the language's
/// caption track. One track runs per enabled language; replacing its session (rollover, reconnect) is the track's
/// own business and invisible to callers.
/// </summary>
public interface ILanguageTrack
{
    /// <summary>The caption language this track produces.</summary>
    CaptionLanguage Language { get; }

    /// <summary>A snapshot of the track's state for status output.</summary>
    TrackStatus Status { get; }

    /// <summary>
    /// Runs until <paramref name="audio"/> completes (end of input: finish the pending turns, then return) or
    /// <paramref name="cancellationToken"/> is cancelled (stop at once). Recoverable failures (network, server
    /// errors) are handled inside; an exception means the track cannot go on (for example a rejected API key).
    /// </summary>
    Task RunAsync(ChannelReader<AudioChunk> audio, ICaptionInput captions, CancellationToken cancellationToken);
}

/// <summary>Makes language tracks for one engine (Realtime, test pattern).</summary>
public interface ILanguageTrackFactory
{
    /// <summary>The engine's name as shown in status (<c>openai</c>, <c>test-pattern</c>).</summary>
    string EngineName { get; }

    /// <summary>Whether the engine consumes audio (the test pattern does not).</summary>
    bool UsesAudio { get; }

    /// <summary>
    /// A track of <paramref name="language"/>: for a source language, the transcription of <paramref name="speaker"/>
    /// (who speaks it); for a target, the translation of what <paramref name="speaker"/> says. Null: the unnamed
    /// speaker of the configured input and source language.
    /// </summary>
    ILanguageTrack Create(CaptionLanguage language, Speakers.Speaker? speaker = null);
}

/// <summary>
/// A caption language: <see cref="Code"/> (ISO 639-1 such as <c>en</c>, <c>es</c>) and whether it is the source
/// transcription (what the speaker says) or a translation target.
/// </summary>
public sealed record CaptionLanguage(string Code, bool IsSource)
{
    public override string ToString() => IsSource ? $"{Code} (source)" : Code;
}
