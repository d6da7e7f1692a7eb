using System.Globalization;

namespace CaptionSidecar.Realtime;

// A Realtime session, its deadlines: one timer, set for the earliest, ticking into the loop.
internal abstract partial class RealtimeSession
{
    private void OnTimer()
    {
        if (!_inbox.Writer.TryWrite(SessionInput.Tick.Instance) && !_inbox.Reader.Completion.IsCompleted)
        {
            try
            {
                _timer?.Change(TickRetry, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // The loop ended.
            }
        }
    }

    /// <summary>Sets the timer for the earliest deadline still ahead (or stops it).</summary>
    private void ArmTimer()
    {
        DateTimeOffset? due = null;
        void Consider(DateTimeOffset? at) => due = at is { } a && (due is null || a < due) ? a : due;
        Consider(_handshakeDeadline);
        Consider(_holdDeadline);
        Consider(_drainDeadline);
        if (!_handover.HandedOver)
        {
            Consider(_watchdog.Deadline);
        }
        if (_phase == SessionPhase.Live && _heldChunk is null)
        {
            // Mid-turn at the deadline even when no audio comes to trigger the decision.
            Consider(_handover.ForceAt);
        }

        var wait = due is { } d ? Max(d - Now, TimeSpan.Zero) : Timeout.InfiniteTimeSpan;
        _timer?.Change(wait, Timeout.InfiniteTimeSpan);
        if (due is { } later && Now >= later)
        {
            // The clock passed it while the timer was being set (a timer is set relative to the time read above).
            _inbox.Writer.TryWrite(SessionInput.Tick.Instance);
        }
    }

    /// <summary>
    /// Acts on deadlines that passed: a handshake that took too long throws, a stalled session is abandoned (the
    /// watchdog), a drain is given up on; returns true when
    /// a hold was given up on (so audio may go out at once).
    /// </summary>
    private bool GiveUpPassedDeadlines()
    {
        var streamOn = false;
        var now = Now;
        if (_handshakeDeadline is { } handshake && now >= handshake)
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"the Realtime server did not complete the session handshake within {Options.HandshakeTimeoutSeconds} s"));
        }

        if (_holdDeadline is { } hold && now >= hold && _holdingFor is { } oldest)
        {
            _turns.GiveUpWaitingFor(oldest);
            _holdingFor = null;
            _holdDeadline = null;
            LogReplayWaitGivenUp(Language, Options.DrainTimeoutSeconds, Options.ReplaySeconds);
            streamOn = _phase == SessionPhase.Live;
        }

        if (!_handover.HandedOver && _watchdog.Stalled(now) is { } stalled)
        {
            // Hears speech but answers nothing: replaced like a lost session, its unanswered audio heard again.
            LogWatchdog(Language, stalled);
            Context.UpdateStatus(s => s with { WatchdogRestarts = s.WatchdogRestarts + 1 });
            Abandon("watchdog: " + stalled);
            _abandon.Token.ThrowIfCancellationRequested();
        }

        if (_drainDeadline is { } drain && now >= drain)
        {
            _drainDeadline = null;
            LogDrainTimedOut(Language, Options.DrainTimeoutSeconds, _turns.PendingCount);
        }

        return streamOn;
    }
}
