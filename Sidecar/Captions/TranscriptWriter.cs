// PLACEHOLDER (contract only): the outputs helper replaces this file.
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Captions;

internal sealed class TranscriptWriter : ICaptionSink
{
    public TranscriptWriter(IOptions<CaptionOptions> options, TimeProvider time, ILogger<TranscriptWriter> logger)
    {
        throw new NotImplementedException();
    }

    public string Name => "transcripts";

    public ValueTask WriteAsync(CaptionUpdate update, CancellationToken cancellationToken) => throw new NotImplementedException();

    public ValueTask CloseLanguageAsync(string language, CancellationToken cancellationToken) => throw new NotImplementedException();
}
