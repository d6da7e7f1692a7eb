using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Realtime;

// A Realtime session, its audio side: replay, live chunks (held back for the replay), the handover, the pump, the drain.
internal abstract partial class RealtimeSession
{
    private async Task StartLiveAsync(long resumeSample, ChannelReader<AudioChunk> audio, CancellationToken lost)
    {
        _turns.Start(resumeSample);
        Context.UpdateStatus(s => s with
        {
            State = TrackSessionState.Connected,
            SessionId = _sessionId,
            ConnectedAt = Now,
            ExpiresAt = _expiresAt,
            LastError = null,
        });

        // A pending turn's start already includes the server's prefix padding; a finished turn's end is where new speech can begin.
        var replayed = _replay.Since(resumeSample);
        if (replayed.Count > 0)
        {
            LogReplaying(Language, replayed.Count * replayed[0].Duration.TotalSeconds);
        }

        foreach (var chunk in replayed)
        {
            await AppendAsync(chunk, lost);
        }

        _phase = SessionPhase.Live;
        _pumpStop = CancellationTokenSource.CreateLinkedTokenSource(lost);
        _pumpWaiting = true;
        _pump = PumpAsync(audio, _pumpStop.Token);
    }

    /// <summary>
    /// Sends live chunks while the loop may: not after a handover, and not while the oldest turn still waiting for its
    /// text started more than the replay buffer's length before the next chunk's end (sending it would push that
    /// turn's audio out of the buffer, and a replacement session could no longer hear it again). Holding back needs
    /// no more audio from us (the turn is committed), so it cannot deadlock; queued events still go out. A turn that
    /// takes longer than the drain timeout is given up on (logged) so one stuck turn cannot stop the track.
    /// </summary>
    private async Task StreamAsync(ChannelReader<AudioChunk> audio, CancellationToken lost)
    {
        while (_phase == SessionPhase.Live)
        {
            if (_heldChunk is null && await HandOverNowAsync())
            {
                return;
            }

            if (_heldChunk is null)
            {
                if (!audio.TryRead(out var next))
                {
                    if (_audioEnded)
                    {
                        Context.UpdateStatus(s => s with { State = TrackSessionState.Draining });
                        BeginDrain();
                    }
                    else if (!_pumpWaiting)
                    {
                        // One wait at a time: the pump waits again only once the loop found the channel empty.
                        _pumpWaiting = _audioDemand.Writer.TryWrite(true);
                    }

                    return;
                }

                _heldChunk = next;
            }

            var chunk = _heldChunk.Value;
            if (_turns.HoldingBack(chunk, _replay.CapacitySamples) is { } oldest)
            {
                if (_holdingFor != oldest)
                {
                    _holdingFor = oldest;
                    _holdDeadline = Now + TimeSpan.FromSeconds(Options.DrainTimeoutSeconds);
                    ArmTimer();
                    Context.UpdateStatus(s => s with { ReplayWaits = s.ReplayWaits + 1 });
                }

                return;
            }

            _holdingFor = null;
            _holdDeadline = null;
            _heldChunk = null;
            _replay.Add(chunk);
            await AppendAsync(chunk, lost);
            await FlushAsync(lost);
        }
    }

    /// <summary>
    /// Whether to stop taking live audio now for a successor: asked for, and at a pause between turns (no speech
    /// heard but uncommitted; manual mode: nothing appended since the last commit) or past the deadline. On a
    /// handover the pump stops before the successor may read the channel, then the session drains.
    /// </summary>
    private async Task<bool> HandOverNowAsync()
    {
        var manual = Options.TurnDetection == TurnDetectionMode.Manual;
        var turnOpen = manual ? _turns.UncommittedSamples > 0 : _turns.InSpeech;
        if (!_handover.TryHandOver(Now, turnOpen, preRoll: !manual, _turns.NextLiveSample, _turns.LastCommitEndSample, _replay))
        {
            return false;
        }

        await StopPumpAsync();
        _turns.HandedOver(_handover.NextHearsFrom);
        _handedOver.TrySetResult(_handover.From!.Value);
        LogHandedOver(Language, turnOpen ? "in the middle of a turn (no pause came in time)" : "at a pause between turns");
        BeginDrain();
        return true;
    }

    /// <summary>Waits on the track's audio channel for the loop, one wait at a time; it never reads a chunk itself.</summary>
    private async Task PumpAsync(ChannelReader<AudioChunk> audio, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                if (!await audio.WaitToReadAsync(stop))
                {
                    await PostAsync(SessionInput.AudioEnded.Instance, stop);
                    return;
                }

                await PostAsync(SessionInput.AudioReadable.Instance, stop);
                await _audioDemand.Reader.ReadAsync(stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Handed over or ended: the successor (if any) waits on the channel from here on.
        }
    }

    private async Task StopPumpAsync()
    {
        if (_pumpStop is not null)
        {
            await _pumpStop.CancelAsync();
        }

        await _pump;
    }

    private async Task AppendAsync(AudioChunk chunk, CancellationToken cancellationToken)
    {
        var (message, id) = Events.Append(chunk.Pcm16.Span);
        await SendAsync(message, id, "input_audio_buffer.append", cancellationToken);
        _turns.Appended(chunk);
        Context.UpdateStatus(s => s with { ChunksSent = s.ChunksSent + 1 });
        if (Options.TurnDetection == TurnDetectionMode.Manual && _turns.UncommittedSamples >= Options.ManualCommitSeconds * AudioChunk.SampleRate)
        {
            Send(Events.Commit(), "input_audio_buffer.commit");
            _turns.CommitSent();
            await FlushAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The input ended, or the session handed the live audio over: close the last turn (manual mode: commit what is
    /// left; VAD modes: append the silence that ends a turn, as a pause would), then send
    /// <c>input_audio_buffer.clear</c>. The server handles events in order, so its <c>cleared</c> answer means it has
    /// heard every byte and made every commit it will make; then the loop waits for the pending turns (within the
    /// drain timeout; queued events still go out). The clear drops only trailing silence, so no silence is committed
    /// and billed.
    /// </summary>
    private void BeginDrain()
    {
        _phase = SessionPhase.Draining;
        _holdDeadline = null;
        _holdingFor = null;
        _drainDeadline = Now + TimeSpan.FromSeconds(Options.DrainTimeoutSeconds);
        if (Options.TurnDetection == TurnDetectionMode.Manual)
        {
            if (_turns.UncommittedSamples >= MinCommitSamples)
            {
                Send(Events.Commit(), "input_audio_buffer.commit");
                _turns.CommitSent();
            }
        }
        else
        {
            var silence = new byte[AudioChunk.SampleRate / 10 * 2]; // 100 ms
            for (var sent = TimeSpan.Zero; sent < Options.TurnEndingSilence; sent += TimeSpan.FromMilliseconds(100))
            {
                Send(Events.Append(silence), "input_audio_buffer.append");
                _turns.AppendedSilence(silence.Length / 2);
            }
        }

        var clear = Events.Clear();
        _clearEventId = clear.EventId;
        Send(clear, "input_audio_buffer.clear");
    }

    private bool DrainSettled() => _cleared && _turns.PendingCount == 0 && KindSettled;
}
