using CaptionSidecar.Audio;
using CaptionSidecar.Hosting;
using CaptionSidecar.Speakers;

namespace CaptionSidecar.Pipeline;

/// <summary>Each speaker's audio: opening the input, running capture to the fan-out, and their status.</summary>
internal sealed partial class CaptionPipelineService
{
    /// <summary>
    /// Opens a speaker's input, saying in status and the log while it is waited for. False when the sidecar stops
    /// first or the input cannot be opened: that is a configuration error (exit code 2), reported in one line.
    /// </summary>
    private async Task<bool> OpenInputAsync(SpeakerRun run, CancellationToken stoppingToken)
    {
        var input = run.Speaker.Input;
        run.Input = new AudioInputState(input, AudioInputPhase.Opening, _time.GetUtcNow(), "waiting for the input to open");
        var opening = _audioSources.OpenAsync(_audioOptions.WithInput(input), stoppingToken);
        try
        {
            IAudioSource source;
            try
            {
                source = await opening.WaitAsync(InputWaitNotice, _time, stoppingToken);
            }
            catch (TimeoutException)
            {
                var fifo = input.StartsWith("file:", StringComparison.OrdinalIgnoreCase);
                var why = fifo
                    ? "nothing has arrived from it yet: a FIFO opens only once something writes to it"
                    : "it has not opened yet";
                run.Input = run.Input with { Detail = why };
                LogWaitingForInput(input, Of(run), why);
                source = await opening;
            }

            run.Source = source;
            run.Input = new AudioInputState(input, AudioInputPhase.WaitingForAudio, _time.GetUtcNow(), "open; no audio has arrived yet");
            return true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            LogStoppedWaitingForInput(input, Of(run));
            return false;
        }
        catch (Exception ex) when (ex is NotSupportedException or FormatException or IOException or AudioFormatException or UnauthorizedAccessException)
        {
            // An expected condition (a bad file, a folder, a missing device): the message says what to do; no stack trace.
            run.Input = new AudioInputState(input, AudioInputPhase.Failed, _time.GetUtcNow(), ex.Message);
            LogInputCannotOpen(Of(run), ex.Message);
            _outcome.Fail(SidecarCommandLine.ExitInvalidConfiguration);
            _lifetime.StopApplication();
            return false;
        }
    }

    /// <summary>Runs one speaker's capture until their input ends or the sidecar stops; then their tracks finish.</summary>
    private async Task RunSpeakerAsync(SpeakerRun run, CancellationToken cancellationToken)
    {
        var pipeline = run.Audio!;
        var fan = run.FanOut!.RunAsync(cancellationToken);
        try
        {
            await pipeline.RunAsync(cancellationToken);
            run.Input = run.Input! with { Phase = AudioInputPhase.Ended, Since = _time.GetUtcNow(), Detail = null };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or AudioFormatException)
        {
            // Expected (a command that exited non-zero, a damaged file): the message says it all.
            run.Input = run.Input! with { Phase = AudioInputPhase.Failed, Since = _time.GetUtcNow(), Detail = ex.Message };
            LogInputFailed(Of(run), ex.Message);
            _outcome.Fail(1);
            if (_speakers.Count == 1)
            {
                _lifetime.StopApplication();
            }
        }
        catch (Exception ex)
        {
            run.Input = run.Input! with { Phase = AudioInputPhase.Failed, Since = _time.GetUtcNow(), Detail = ex.Message };
            Fatal(ex, $"The audio input{Of(run)} failed");
        }
        finally
        {
            lock (_gate)
            {
                // No track of this speaker starts any more; the running ones finish their turns (their queues complete).
                run.InputEnded = true;
            }

            await fan;
            await run.Source!.DisposeAsync();
        }
    }

    /// <summary>Whose input, for a log line: empty for the unnamed speaker (the lines read as before speakers), else " of speaker NAME".</summary>
    private static string Of(SpeakerRun run) => run.Speaker.Name is { } name ? $" of speaker {name}" : string.Empty;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Still waiting for the audio input {Input}{Of}: {Why}. Captioning starts once it delivers; Ctrl+C stops")]
    private partial void LogWaitingForInput(string input, string of, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped while waiting for the audio input {Input}{Of}; it never opened")]
    private partial void LogStoppedWaitingForInput(string input, string of);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The audio input{Of} cannot be opened: {Reason}")]
    private partial void LogInputCannotOpen(string of, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The audio input{Of} failed: {Reason}")]
    private partial void LogInputFailed(string of, string reason);

    /// <summary>One speaker's audio path and moderators' choice for them.</summary>
    private sealed class SpeakerRun(Speaker speaker, AudioHoldChoice hold)
    {
        private volatile AudioInputState? _input;

        public Speaker Speaker { get; } = speaker;

        public AudioHoldChoice Hold { get; } = hold;

        /// <summary>False while a moderator muted the speaker (guarded by the pipeline's lock).</summary>
        public bool Captioned { get; set; } = true;

        /// <summary>True once the input ended: none of this speaker's tracks starts any more (guarded by the pipeline's lock).</summary>
        public bool InputEnded { get; set; }

        public IAudioSource? Source { get; set; }

        /// <summary>True when the engine hears no audio (the test pattern): the input is never opened.</summary>
        public bool Unused { get; set; }

        public AudioPipeline? Audio { get; set; }

        public AudioFanOut? FanOut { get; set; }

        public AudioInputState? Input
        {
            get => _input;
            set => _input = value;
        }

        /// <summary>The input's state, receiving once audio arrived.</summary>
        public AudioInputState? CurrentInput
        {
            get
            {
                var input = _input;
                if (input is { Phase: AudioInputPhase.WaitingForAudio } && Audio?.Stats.ChunksProduced > 0)
                {
                    return input with { Phase = AudioInputPhase.Receiving, Detail = null };
                }

                return input;
            }
        }

        public SpeakerStatus Status()
        {
            var stats = Audio?.Stats;
            var input = CurrentInput;
            return new SpeakerStatus(
                Speaker.Key,
                Speaker.Label is not null,
                Speaker.Label?.Colour,
                Speaker.Language,
                Speaker.Input,
                Captioned,
                Unused ? "unused" : input is null ? "opening" : input.PhaseName,
                Unused ? "the test pattern hears no audio" : input?.Detail,
                Control.ControlSurface.Dbfs(stats?.PeakDbfs),
                Control.ControlSurface.Dbfs(stats?.RmsDbfs),
                stats?.Speech,
                Hold.Settings is null ? null : stats?.Muted);
        }
    }
}
