using System.Globalization;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.TestPattern;

/// <summary>
/// Speaks one language's <see cref="TestPatternScript"/> into its caption track until cancelled: speech starts,
/// the turn is committed (chained to the previous one), text arrives word by word at about 165 words a minute,
/// the turn completes, speech stops, and a pause follows. Every fifth pause outlasts the caption clearing time so
/// clearing can be seen. Times are the time elapsed since the track started (there is no audio timeline).
/// </summary>
internal sealed partial class TestPatternTrack : ILanguageTrack
{
    /// <summary>Time per word: 2.75 words a second, about 165 words a minute.</summary>
    internal static readonly TimeSpan WordInterval = TimeSpan.FromMilliseconds(360);

    /// <summary>Time per run of <see cref="CharactersPerPiece"/> characters in a language written without spaces (7.5 a second).</summary>
    internal static readonly TimeSpan CharacterPieceInterval = TimeSpan.FromMilliseconds(400);

    /// <summary>Characters per text delta in a language written without spaces.</summary>
    internal const int CharactersPerPiece = 3;

    /// <summary>Before the first sentence, so outputs have connected when it starts.</summary>
    internal static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);

    /// <summary>The pauses after each sentence, in turn; the fifth is the long one (see <see cref="LongPauseFor"/>).</summary>
    private static readonly TimeSpan[] ShortPauses = [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(4)];

    private readonly TestPatternScript _script;
    private readonly TimeSpan _longPause;
    private readonly TimeProvider _time;
    private readonly ILogger<TestPatternTrack> _logger;
    private volatile TrackStatus _status;

    public TestPatternTrack(CaptionLanguage language, TestPatternScript script, TimeSpan longPause, TimeProvider time, ILogger<TestPatternTrack> logger)
    {
        ArgumentNullException.ThrowIfNull(language);
        ArgumentNullException.ThrowIfNull(script);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(script.Sentences.Count, 0, nameof(script));
        Language = language;
        _script = script;
        _longPause = longPause;
        _time = time;
        _logger = logger;
        _status = new TrackStatus(language.Code, TrackSessionState.Starting);
    }

    public CaptionLanguage Language { get; }

    public TrackStatus Status => _status;

    /// <summary>
    /// The long pause: two seconds past the clearing time so the clear is seen, or 7 s when captions never clear
    /// or clear so late that waiting for it would make the pattern useless.
    /// </summary>
    internal static TimeSpan LongPauseFor(double clearAfterSeconds) =>
        clearAfterSeconds is > 0 and <= 28 ? TimeSpan.FromSeconds(clearAfterSeconds + 2) : TimeSpan.FromSeconds(7);

    /// <summary>The pause after the <paramref name="turn"/>-th sentence (1-based): every fifth is the long one.</summary>
    internal TimeSpan PauseAfter(long turn)
    {
        var place = (int)(turn % (ShortPauses.Length + 1));
        return place == 0 ? _longPause : ShortPauses[place - 1];
    }

    /// <summary>
    /// The text deltas of <paramref name="sentence"/>: word by word (each word with the space before it), or runs of
    /// a few characters for a language written without spaces. They concatenate to the sentence exactly.
    /// </summary>
    internal static IReadOnlyList<string> Pieces(string sentence, bool writtenWithoutSpaces)
    {
        var pieces = new List<string>();
        var i = 0;
        while (i < sentence.Length)
        {
            var wordStart = i;
            while (i < sentence.Length && char.IsWhiteSpace(sentence[i]))
            {
                i++;
            }

            var textStart = i;
            while (i < sentence.Length && !char.IsWhiteSpace(sentence[i]))
            {
                i++;
            }

            var word = sentence[textStart..i];
            var info = new StringInfo(word);
            if (!writtenWithoutSpaces || word == TestPatternScript.Label || info.LengthInTextElements <= CharactersPerPiece)
            {
                pieces.Add(sentence[wordStart..i]);
                continue;
            }

            var leading = sentence[wordStart..textStart];
            for (var e = 0; e < info.LengthInTextElements; e += CharactersPerPiece)
            {
                var run = info.SubstringByTextElements(e, Math.Min(CharactersPerPiece, info.LengthInTextElements - e));
                pieces.Add(e == 0 ? leading + run : run);
            }
        }

        return pieces;
    }

    /// <summary>Speaks until cancelled, then returns normally (the audio reader is not used).</summary>
    public async Task RunAsync(ChannelReader<AudioChunk> audio, ICaptionInput captions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(captions);
        var started = _time.GetTimestamp();
        _status = _status with { State = TrackSessionState.Connected, ConnectedAt = _time.GetUtcNow() };
        LogStarted(Language.Code);
        var interval = _script.WrittenWithoutSpaces ? CharacterPieceInterval : WordInterval;
        string? previousItemId = null;
        long turns = 0;
        try
        {
            await Task.Delay(FirstPause, _time, cancellationToken);
            while (true)
            {
                var sentence = _script.Sentences[(int)(turns % _script.Sentences.Count)];
                var itemId = string.Create(CultureInfo.InvariantCulture, $"test_{Language.Code}_{turns + 1}");
                var pieces = Pieces(sentence, _script.WrittenWithoutSpaces);
                var start = _time.GetElapsedTime(started);
                captions.SpeechStarted(start);
                captions.TurnCommitted(itemId, previousItemId, start, start + (interval * pieces.Count));
                foreach (var piece in pieces)
                {
                    await Task.Delay(interval, _time, cancellationToken);
                    captions.TextDelta(itemId, piece);
                }

                captions.TextCompleted(itemId, sentence);
                captions.SpeechStopped(_time.GetElapsedTime(started));
                previousItemId = itemId;
                turns++;
                _status = _status with { TurnsCompleted = turns };

                await Task.Delay(PauseAfter(turns), _time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancellation is how the test pattern ends.
        }
        finally
        {
            _status = _status with { State = TrackSessionState.Stopped };
            LogStopped(Language.Code, turns);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Test pattern for {Language} started: sample captions labelled [TEST], no audio is captioned")]
    private partial void LogStarted(string language);

    [LoggerMessage(Level = LogLevel.Information, Message = "Test pattern for {Language} stopped after {Turns} sample lines")]
    private partial void LogStopped(string language, long turns);
}
