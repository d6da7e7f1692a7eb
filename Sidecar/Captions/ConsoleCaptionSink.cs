// PLACEHOLDER (contract only): the outputs helper replaces this file.
namespace CaptionSidecar.Captions;

internal sealed class ConsoleCaptionSink : ICaptionSink
{
    public string Name => "console";

    public ValueTask WriteAsync(CaptionUpdate update, CancellationToken cancellationToken) => throw new NotImplementedException();

    public ValueTask CloseLanguageAsync(string language, CancellationToken cancellationToken) => throw new NotImplementedException();
}
