using CaptionSidecar.Languages;
using Microsoft.Extensions.Hosting;

namespace CaptionSidecar.Tests.Pipeline;

/// <summary>A language choice kept nowhere.</summary>
internal sealed class MemoryChoiceStore : ILanguageChoiceStore
{
    public string Path => "memory";

    public LanguageChoice? Load() => null;

    public void Save(LanguageChoice choice)
    {
    }
}

/// <summary>A host lifetime whose stop is a signal.</summary>
internal sealed class FakeLifetime : IHostApplicationLifetime
{
    public TaskCompletionSource Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CancellationToken ApplicationStarted => CancellationToken.None;

    public CancellationToken ApplicationStopping => CancellationToken.None;

    public CancellationToken ApplicationStopped => CancellationToken.None;

    public void StopApplication() => Stopped.TrySetResult();
}
