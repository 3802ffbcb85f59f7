"""Fill locale/es/LC_MESSAGES/django.po with the Spanish (Chile) translations below.

Run after ``manage.py makemessages -l es``: it sets the msgstr of every message
listed here, then ``manage.py compilemessages`` builds the .mo file. A message
missing from this table is reported and keeps an empty translation, so Django
shows the English text; the test suite fails on any such message.
"""

import re
import sys
from pathlib import Path

PO_FILE = Path(__file__).resolve().parent / "es" / "LC_MESSAGES" / "django.po"

TRANSLATIONS = {
    "Common": "Común",
    "Create the first administrator, with a random password printed once, when there is none.": "Crea el primer administrador, con una contraseña aleatoria que se muestra una sola vez, cuando no hay ninguno.",
    "User name of the administrator to create.": "Nombre de usuario del administrador que se creará.",
    "Administrator “%(username)s” created with password %(password)s. Change it in the admin after signing in.": "Se creó el administrador «%(username)s» con la contraseña %(password)s. Cámbiela en la administración después de ingresar.",
    "progress": "avance",
    "classes": "clases",
    "training images": "imágenes de entrenamiento",
    "test images": "imágenes de prueba",
    "Import of “%(name)s” queued. Its progress shows in the list.": "La importación de «%(name)s» quedó en cola. Su avance se muestra en la lista.",
    "Import a dataset": "Importar un conjunto de datos",
    "Datasets": "Conjuntos de datos",
    "name": "nombre",
    "archive": "archivo comprimido",
    "A .zip, .tar or .tar.gz of class folders (optionally inside train/ and test/), or the CIFAR-10 python archive.": "Un .zip, .tar o .tar.gz con una carpeta por clase (opcionalmente dentro de train/ y test/), o el archivo CIFAR-10 para Python.",
    "or a path on the server": "o una ruta en el servidor",
    "A folder or archive that the workers can read, for sets too large to upload.": "Una carpeta o archivo comprimido que los workers puedan leer, para conjuntos demasiado grandes para subir.",
    "image size (pixels)": "tamaño de imagen (píxeles)",
    "Resize every image to this side. Leave empty when all images have the same size.": "Redimensiona cada imagen a este lado. Déjelo vacío cuando todas las imágenes tengan el mismo tamaño.",
    "“%(name)s” is not a .zip, .tar or .tar.gz archive. Upload an archive of class folders.": "«%(name)s» no es un archivo .zip, .tar ni .tar.gz. Suba un archivo comprimido con una carpeta por clase.",
    "The archive is %(size)s, over the upload limit of %(limit)s. Copy it to the server and give its path instead.": "El archivo pesa %(size)s, más que el límite de subida de %(limit)s. Cópielo al servidor e indique su ruta.",
    "Nothing exists at “%(path)s” on the server. Check the path.": "No existe nada en «%(path)s» en el servidor. Revise la ruta.",
    "Upload an archive or give a path on the server.": "Suba un archivo comprimido o indique una ruta en el servidor.",
    "Give either an archive or a path on the server, not both.": "Indique un archivo comprimido o una ruta en el servidor, no ambos.",
    "Import a labelled image set: a folder, .zip or .tar(.gz) of class folders, optionally split into train/ and test/, or the CIFAR-10 python archive or its cifar-10-batches-py folder.": "Importa un conjunto de imágenes etiquetadas: una carpeta, .zip o .tar(.gz) con una carpeta por clase, opcionalmente separadas en train/ y test/, o el archivo CIFAR-10 para Python o su carpeta cifar-10-batches-py.",
    "Folder or archive to import.": "Carpeta o archivo comprimido que se importará.",
    "Dataset name; by default the file name without its extension.": "Nombre del conjunto de datos; por omisión, el nombre del archivo sin su extensión.",
    "Resize every image to this side, in pixels. Needed when the images have different sizes.": "Redimensiona cada imagen a este lado, en píxeles. Es necesario cuando las imágenes tienen tamaños distintos.",
    "Decoding": "Decodificando",
    "Dataset “%(name)s” (id %(id)s): %(classes)d classes, %(train)d training and %(test)d test images of %(shape)s.": "Conjunto de datos «%(name)s» (id %(id)s): %(classes)d clases, %(train)d imágenes de entrenamiento y %(test)d de prueba de %(shape)s.",
    "importing": "importando",
    "ready": "listo",
    "failed": "fallida",
    "status": "estado",
    "source": "origen",
    "Folder or archive the images came from.": "Carpeta o archivo comprimido del que vienen las imágenes.",
    "Side in pixels that every image is resized to. Empty: keep the size of the images, which must all match.": "Lado en píxeles al que se redimensiona cada imagen. Vacío: se conserva el tamaño de las imágenes, que debe ser el mismo en todas.",
    "arrays file": "archivo de arreglos",
    "Relative to the datasets folder.": "Relativo a la carpeta de conjuntos de datos.",
    "training images per class": "imágenes de entrenamiento por clase",
    "test images per class": "imágenes de prueba por clase",
    "image shape": "forma de las imágenes",
    "SHA-256 of the arrays file": "SHA-256 del archivo de arreglos",
    "test split": "partición de prueba",
    "images decoded": "imágenes decodificadas",
    "images in total": "imágenes en total",
    "error": "error",
    "created at": "creado el",
    "imported at": "importado el",
    "dataset": "conjunto de datos",
    "datasets": "conjuntos de datos",
    "The dataset name is empty. Give the dataset a name.": "El nombre del conjunto de datos está vacío. Asígnele un nombre.",
    "A dataset named “%(name)s” already exists. Choose another name.": "Ya existe un conjunto de datos llamado «%(name)s». Elija otro nombre.",
    "hyperparameters": "hiperparámetros",
    "runs": "ejecuciones",
    "Queue a run of the selected experiments": "Encolar una ejecución de los experimentos seleccionados",
    ("%(count)d run queued.", "%(count)d runs queued."): ("%(count)d ejecución en cola.", "%(count)d ejecuciones en cola."),
    "%(created)d experiments created, %(queued)d runs queued.": "Se crearon %(created)d experimentos y se encolaron %(queued)d ejecuciones.",
    "Create a grid of MLP experiments": "Crear una grilla de experimentos MLP",
    "epochs": "épocas",
    "last val_accuracy": "última val_accuracy",
    "Cancel the selected runs": "Cancelar las ejecuciones seleccionadas",
    ("%(count)d run cancelled.", "%(count)d runs cancelled."): ("%(count)d ejecución cancelada.", "%(count)d ejecuciones canceladas."),
    "Queue a new run of the same experiments": "Encolar una nueva ejecución de los mismos experimentos",
    'Hyperparameters must be a JSON object, such as {"epochs": 10}.': 'Los hiperparámetros deben ser un objeto JSON, por ejemplo {"epochs": 10}.',
    "Experiments": "Experimentos",
    "hidden layers (512, 256 and 256 units)": "capas ocultas (512, 256 y 256 unidades)",
    "activation": "activación",
    "optimizer": "optimizador",
    "learning rate (empty: Keras default)": "tasa de aprendizaje (vacío: la de Keras por omisión)",
    "batch size (images)": "tamaño de lote (imágenes)",
    "validation fraction of the training split": "fracción de validación de la partición de entrenamiento",
    "dropout rate (0: no Dropout)": "tasa de Dropout (0: sin Dropout)",
    "EarlyStopping": "EarlyStopping",
    "EarlyStopping: monitored metric": "EarlyStopping: métrica observada",
    "EarlyStopping: patience (epochs)": "EarlyStopping: paciencia (épocas)",
    "EarlyStopping: restore the best weights": "EarlyStopping: restaurar los mejores pesos",
    "seed": "semilla",
    "none": "ninguno",
    "Dropout": "Dropout",
    "name prefix": "prefijo del nombre",
    "Each experiment is named prefix-optimizer-activation-depth-regularizer.": "Cada experimento se llama prefijo-optimizador-activación-profundidad-regularizador.",
    "optimizers": "optimizadores",
    "activations": "activaciones",
    "hidden layers": "capas ocultas",
    "regularizers": "regularizadores",
    "queue a run of each experiment now": "encolar ahora una ejecución de cada experimento",
    "Train an experiment in this process, with a progress bar, without a worker.": "Entrena un experimento en este proceso, con barra de avance, sin un worker.",
    "Experiment name or id.": "Nombre o id del experimento.",
    "No experiment is named or numbered “%(value)s”. List them with the admin or GET /api/experiments/.": "Ningún experimento se llama o tiene el id «%(value)s». Véalos en la administración o con GET /api/experiments/.",
    "Run %(id)s of “%(name)s” started.": "Comenzó la ejecución %(id)s de «%(name)s».",
    "Run %(id)s was not trained: see the log above.": "La ejecución %(id)s no se entrenó: vea el registro anterior.",
    "Run %(id)s ended as %(status)s: %(error)s": "La ejecución %(id)s terminó como %(status)s: %(error)s",
    "Run %(id)s succeeded: test accuracy %(accuracy).4f, %(epochs)d epochs in %(seconds).1f s.": "La ejecución %(id)s terminó bien: exactitud de prueba %(accuracy).4f, %(epochs)d épocas en %(seconds).1f s.",
    "multilayer perceptron": "perceptrón multicapa",
    "description": "descripción",
    "model family": "familia de modelo",
    "Every hyperparameter of the family, defaults included, as validated when saved.": "Todos los hiperparámetros de la familia, incluidos los valores por omisión, tal como se validaron al guardar.",
    "created by": "creado por",
    "experiment": "experimento",
    "experiments": "experimentos",
    "queued": "en cola",
    "running": "en curso",
    "succeeded": "exitosa",
    "cancelled": "cancelada",
    "queued at": "encolada el",
    "started at": "iniciada el",
    "finished at": "terminada el",
    "worker": "worker",
    "attempts": "intentos",
    "Times a worker started this run; more than one means a worker died and the run resumed.": "Veces que un worker inició esta ejecución; más de una significa que un worker se detuvo y la ejecución se reanudó.",
    "code version": "versión del código",
    "library versions": "versiones de las bibliotecas",
    "dataset SHA-256": "SHA-256 del conjunto de datos",
    "epochs run": "épocas ejecutadas",
    "stopped early": "detenida antes (EarlyStopping)",
    "validation images": "imágenes de validación",
    "test accuracy": "exactitud de prueba",
    "test loss": "pérdida de prueba",
    "training seconds": "segundos de entrenamiento",
    "model folder": "carpeta del modelo",
    "Relative to the artifacts folder.": "Relativa a la carpeta de artefactos.",
    "run": "ejecución",
    "epoch": "época",
    "accuracy": "exactitud",
    "loss": "pérdida",
    "validation accuracy": "exactitud de validación",
    "validation loss": "pérdida de validación",
    "seconds": "segundos",
    "recorded at": "registrada el",
    "epoch metric": "métrica por época",
    "epoch metrics": "métricas por época",
    "Unknown model family “%(family)s”.": "Familia de modelo desconocida: «%(family)s».",
    "The dataset “%(name)s” is not ready (status: %(status)s). Wait for its import or import it again.": "El conjunto de datos «%(name)s» no está listo (estado: %(status)s). Espere a que termine su importación o impórtelo de nuevo.",
    "The experiment name is empty. Give the experiment a name.": "El nombre del experimento está vacío. Asígnele un nombre.",
    "An experiment named “%(name)s” already exists. Choose another name.": "Ya existe un experimento llamado «%(name)s». Elija otro nombre.",
    "Unknown regularizer “%(value)s”. Choose none, dropout or early_stopping.": "Regularizador desconocido: «%(value)s». Elija none, dropout o early_stopping.",
    "The grid is empty. Choose at least one optimizer, activation, depth and regularizer.": "La grilla está vacía. Elija al menos un optimizador, una activación, una profundidad y un regularizador.",
    "Run %(id)s has already finished (%(status)s) and cannot be cancelled.": "La ejecución %(id)s ya terminó (%(status)s) y no se puede cancelar.",
    "The run was stopped: its worker died %(attempts)s times while training it. Check the worker's memory and logs, then queue a new run.": "La ejecución se detuvo: su worker se cayó %(attempts)s veces mientras la entrenaba. Revise la memoria y los registros del worker y luego encole una nueva ejecución.",
    "The dataset's arrays file is missing. Import the dataset again, then queue a new run.": "Falta el archivo de arreglos del conjunto de datos. Impórtelo de nuevo y luego encole una nueva ejecución.",
    "The run exceeded the time limit of %(seconds)s seconds. Train fewer epochs or raise ETIQUETADO_RUN_TIME_LIMIT_SECONDS.": "La ejecución superó el límite de %(seconds)s segundos. Entrene menos épocas o aumente ETIQUETADO_RUN_TIME_LIMIT_SECONDS.",
    "Spanish (Chile)": "Español (Chile)",
    "English": "Inglés",
    "Home": "Inicio",
    "Import": "Importar",
    "Create a grid": "Crear una grilla",
    "Each combination of the optimizers, activations, depths and regularizers you choose becomes one experiment. The other hyperparameters apply to all of them.": "Cada combinación de los optimizadores, activaciones, profundidades y regularizadores que elija se convierte en un experimento. Los demás hiperparámetros se aplican a todos.",
    "Create experiments": "Crear experimentos",
    "Etiquetado: image classifiers": "Etiquetado: clasificadores de imágenes",
    "Etiquetado": "Etiquetado",
    "Administration": "Administración",
    "The value %(value)s of %(field)s is invalid. Allowed values: %(allowed)s.": "El valor %(value)s de %(field)s es inválido. Valores permitidos: %(allowed)s.",
    "Unknown hyperparameter %(field)s. Known hyperparameters: %(allowed)s.": "Hiperparámetro desconocido: %(field)s. Hiperparámetros conocidos: %(allowed)s.",
    "The dataset source %(path)s was not found. Check the path and try again.": "No se encontró el origen del conjunto de datos %(path)s. Revise la ruta e intente de nuevo.",
    "The dataset source %(path)s is not a folder, a .zip, .tar, .tar.gz or .tgz archive, or a CIFAR-10 python archive. Provide one of those.": "El origen %(path)s no es una carpeta, un archivo .zip, .tar, .tar.gz o .tgz, ni un archivo CIFAR-10 para Python. Entregue uno de ellos.",
    "The archive %(path)s could not be read (%(reason)s). It may be truncated or not an archive at all. Create or download it again and import it again.": "No se pudo leer el archivo %(path)s (%(reason)s): está dañado, truncado o no es un archivo comprimido. Créelo o descárguelo de nuevo e impórtelo otra vez.",
    "The CIFAR-10 batch file %(name)s is not in the CIFAR-10 python format (%(reason)s). Download the official archive again and import it again.": "El lote %(name)s no tiene el formato CIFAR-10 para Python (%(reason)s). Descargue de nuevo el archivo oficial e impórtelo otra vez.",
    "The archive contains an unsafe entry %(name)s (absolute path, '..', link or device file). Remove it and import again.": "El archivo contiene una entrada insegura, %(name)s (ruta absoluta, '..', enlace o archivo de dispositivo). Elimínela e importe de nuevo.",
    "The source contains no images. Put the images in one folder per class, for example cat/0001.jpg and dog/0001.jpg, and import again.": "El origen no contiene ninguna imagen. Ponga las imágenes en una carpeta por clase, por ejemplo cat/0001.jpg y dog/0001.jpg, e importe de nuevo.",
    "The source contains %(count)s class folder(s), but at least 2 are needed. Put the images in one folder per class and import again.": "El origen contiene %(count)s carpeta(s) de clase, pero se necesitan al menos dos clases. Ponga las imágenes en una carpeta por clase e importe de nuevo.",
    "The class %(class_name)s contains %(count)s image(s), but at least 2 are needed to hold one out for testing. Add images to it, or provide train/ and test/ folders, and import again.": "La clase %(class_name)s contiene %(count)s imagen(es), pero se necesitan al menos 2 para reservar una para prueba. Agregue imágenes o entregue carpetas train/ y test/, e importe de nuevo.",
    "The train and test folders contain different classes (only in train: %(train_only)s; only in test: %(test_only)s). Give both folders the same class folders and import again.": "Las carpetas train y test contienen clases distintas (solo en train: %(train_only)s; solo en test: %(test_only)s). Dé a ambas las mismas carpetas de clase e importe de nuevo.",
    "The images have different sizes: %(first_name)s is %(first_size)s but %(other_name)s is %(other_size)s. Import again with an image size so that every image is resized to it.": "Las imágenes tienen distinto tamaño: %(first_name)s mide %(first_size)s, pero %(other_name)s mide %(other_size)s. Importe de nuevo indicando un tamaño de imagen, al que se redimensionarán todas.",
    "The file %(name)s is not an image that can be read. Remove it or replace it with a JPEG or PNG image and import again.": "No se pudo leer el archivo %(name)s como imagen. Elimínelo o reemplácelo por una imagen JPEG o PNG e importe de nuevo.",
    "The checkpoint in %(path)s belongs to another training run. Use a new work folder.": "El punto de control en %(path)s pertenece a otro entrenamiento. Use una nueva carpeta de trabajo.",
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(lines: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', lines)
    return "".join(parts).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def fill(po_text: str) -> tuple[str, list[str]]:
    """Return the .po text with every known msgstr set, and the msgids left untranslated."""
    blocks = po_text.split("\n\n")
    missing = []
    for index, block in enumerate(blocks):
        msgid_match = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if index == 0 or not msgid_match:
            continue
        msgid = _unquote(msgid_match.group(1))
        plural_match = re.search(r'^msgid_plural ((?:".*"\n?)+)', block, re.M)
        head = block[: block.index("msgstr")].replace("#, fuzzy\n", "")
        if plural_match:
            key = (msgid, _unquote(plural_match.group(1)))
            if key not in TRANSLATIONS:
                missing.append(msgid)
                continue
            singular, plural = TRANSLATIONS[key]
            blocks[index] = head + f"msgstr[0] {_quote(singular)}\nmsgstr[1] {_quote(plural)}"
        else:
            if msgid not in TRANSLATIONS:
                missing.append(msgid)
                continue
            blocks[index] = head + f"msgstr {_quote(TRANSLATIONS[msgid])}"
    plural_forms = '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"'
    header = re.sub(r'"Plural-Forms:.*?\\n"', lambda match: plural_forms, blocks[0], flags=re.S)
    header = header.replace('"Language: \\n"', '"Language: es\\n"').replace("#, fuzzy\n", "")
    blocks[0] = header
    return "\n\n".join(blocks), missing


def main() -> int:
    text, missing = fill(PO_FILE.read_text(encoding="utf-8"))
    PO_FILE.write_text(text, encoding="utf-8")
    for msgid in missing:
        print(f"untranslated: {msgid}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
