using CaptionSidecar.Audio;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>The turn bookkeeping of a session, event by event: no socket, no clock.</summary>
public sealed class TurnLedgerTests
{
    private const int Second = AudioChunk.SampleRate;
    private readonly TurnLedger _ledger = new();
    private readonly ToneAudio _audio = new();

    /// <summary>Sends <paramref name="seconds"/> of audio into the ledger.</summary>
    private void Send(double seconds)
    {
        foreach (var chunk in _audio.Silence(TimeSpan.FromSeconds(seconds)))
        {
            _ledger.Appended(chunk);
        }
    }

    /// <summary>The next 20 ms chunk (not sent yet).</summary>
    private AudioChunk Next() => _audio.Silence(TimeSpan.FromMilliseconds(20)).Single();

    [Fact]
    public void Committed_WithSpeechEdges_PlacesTheTurnOnThePipelineAndKeepsItPending()
    {
        _ledger.Start(0);
        Send(1);
        _ledger.SpeechStarted("a", 100);
        _ledger.SpeechStopped("a", 600);

        var turn = _ledger.Committed("a");

        Assert.Equal(TimeSpan.FromMilliseconds(100), turn.Start);
        Assert.Equal(TimeSpan.FromMilliseconds(600), turn.End);
        Assert.False(turn.LeftToSuccessor);
        Assert.True(_ledger.IsPending("a"));
        Assert.Equal(Second / 10, _ledger.ResumeSample);
        Assert.False(_ledger.InSpeech);
    }

    [Fact]
    public void Committed_WithoutEdges_RunsFromTheLastTurnToWhatWasSent()
    {
        _ledger.Start(0);
        Send(1);
        _ledger.SpeechStarted("a", 0);
        _ledger.SpeechStopped("a", 400);
        _ledger.Committed("a");
        Send(1);

        var turn = _ledger.Committed("b");

        Assert.Equal(TimeSpan.FromMilliseconds(400), turn.Start);
        Assert.Equal(TimeSpan.FromSeconds(2), turn.End);
    }

    [Fact]
    public void ResumeSample_OldestPendingTurn_ElseTheEndOfTheLastCommitted_ElseTheStart()
    {
        _ledger.Start(5 * Second);
        Assert.Equal(5 * Second, _ledger.ResumeSample);
        _ = _audio.Silence(TimeSpan.FromSeconds(5)).ToList(); // the session hears from 5 s on

        Send(2);
        _ledger.SpeechStarted("a", 200);
        _ledger.SpeechStopped("a", 500);
        _ledger.Committed("a");
        _ledger.SpeechStarted("b", 1000);
        _ledger.SpeechStopped("b", 1500);
        _ledger.Committed("b");
        Assert.Equal((5 * Second) + (Second / 5), _ledger.ResumeSample);

        Assert.True(_ledger.Finished("a"));
        Assert.Equal(6 * Second, _ledger.ResumeSample);
        Assert.True(_ledger.Finished("b"));
        Assert.False(_ledger.Finished("b"));
        Assert.Equal((6 * Second) + (Second / 2), _ledger.ResumeSample);
        Assert.Equal(0, _ledger.PendingCount);
    }

    [Fact]
    public void HoldingBack_ChunkThatWouldPushAPendingTurnOutOfTheReplay_IsHeldUntilTheTurnFinishesOrIsGivenUp()
    {
        _ledger.Start(0);
        Send(0.96);
        var next = Next();
        _ledger.SpeechStarted("a", 0);
        _ledger.Committed("a");

        // With a one-second replay the 49th chunk still leaves the turn's start in it, the 50th would not.
        Assert.Null(_ledger.HoldingBack(next, Second));
        _ledger.Appended(next);
        var after = Next();
        Assert.Equal(0, _ledger.HoldingBack(after, Second));
        Assert.Null(_ledger.HoldingBack(after, 0));

        _ledger.GiveUpWaitingFor(0);
        Assert.Null(_ledger.HoldingBack(after, Second));
    }

    [Fact]
    public void HoldingBack_NoPendingTurn_SendsOn()
    {
        _ledger.Start(0);
        Send(5);

        Assert.Null(_ledger.HoldingBack(Next(), Second));
    }

    [Fact]
    public void Committed_AfterAHandoverFromAudioTheSuccessorHeard_IsLeftToIt_NotPending()
    {
        _ledger.Start(0);
        Send(2);
        _ledger.HandedOver(Second);
        _ledger.SpeechStarted("early", 500);
        var early = _ledger.Committed("early");
        _ledger.SpeechStarted("late", 1200);
        var late = _ledger.Committed("late");

        Assert.False(early.LeftToSuccessor);
        Assert.True(late.LeftToSuccessor);
        Assert.True(_ledger.IsLeftToSuccessor("late"));
        Assert.False(_ledger.IsPending("late"));
        Assert.Equal(["early"], _ledger.PendingTurns);
    }

    [Fact]
    public void UncommittedSamples_CountUntilTheSessionCommits()
    {
        _ledger.Start(0);
        Send(1);
        Assert.Equal(Second, _ledger.UncommittedSamples);

        _ledger.CommitSent();
        Assert.Equal(0, _ledger.UncommittedSamples);
        Assert.Equal(Second, _ledger.NextLiveSample);
    }
}
